package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/debitura-go/debitura/mockserver"
)

// loadWorkers is how many goroutines of the in-process load generator keep a request in flight.
const loadWorkers = 16

// concurrently runs f(0) … f(n-1) on n goroutines released at the same instant, waits for all
// of them and returns the first error.
func concurrently(n int, f func(i int) error) error {
	start := make(chan struct{})
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			if err := f(i); err != nil {
				once.Do(func() { firstErr = err })
			}
		})
	}
	close(start)
	wg.Wait()
	return firstErr
}

// load runs f on loadWorkers goroutines for d and returns the completed calls per second. A
// worker whose call fails stops; the first error is returned.
func load(d time.Duration, f func(worker, i int) error) (float64, error) {
	var n atomic.Int64
	deadline := time.Now().Add(d)
	t0 := time.Now()
	err := concurrently(loadWorkers, func(w int) error {
		for i := 0; time.Now().Before(deadline); i++ {
			if err := f(w, i); err != nil {
				return err
			}
			n.Add(1)
		}
		return nil
	})
	return float64(n.Load()) / time.Since(t0).Seconds(), err
}

func benchMockRPS(r *report, sz sizes) error {
	s := mockserver.New(mockserver.WithSeed(3), mockserver.WithRateLimit(mockserver.RateLimitConfig{Disabled: true}))
	defer s.Close()
	tr := newTransport()
	tr.MaxIdleConnsPerHost = loadWorkers
	hc := &http.Client{Transport: tr}
	const getClients = 1000
	for i := range getClients {
		body, _ := json.Marshal(newRequest(fmt.Sprintf("rps-get-%d", i), i))
		if err := doReq(hc, http.MethodPost, s.URL+"/clients", body, 201, 202); err != nil {
			return err
		}
	}
	// pre-encoded create bodies, so the generator does not measure encoding/json
	var seq atomic.Int64
	var getRPS, createRPS []float64
	for round := range sz.rpsRounds {
		get := func() error {
			v, err := load(sz.rpsDuration, func(w, i int) error {
				return doReq(hc, http.MethodGet, fmt.Sprintf("%s/clients/rps-get-%d", s.URL, (w*7919+i)%getClients), nil, 200)
			})
			getRPS = append(getRPS, v)
			return err
		}
		create := func() error {
			v, err := load(sz.rpsDuration, func(w, i int) error {
				k := 1_000_000 + int(seq.Add(1))
				body, _ := json.Marshal(newRequest(fmt.Sprintf("rps-new-%d", k), k))
				return doReq(hc, http.MethodPost, s.URL+"/clients", body, 201, 202)
			})
			createRPS = append(createRPS, v)
			return err
		}
		first, second := get, create
		if round%2 == 1 {
			first, second = create, get
		}
		if err := first(); err != nil {
			return err
		}
		if err := second(); err != nil {
			return err
		}
	}
	r.add(ge("mock_get_rps", median(getRPS), "req/s", 15000))
	r.add(ge("mock_create_rps", median(createRPS), "req/s", 5000))
	r.note("mock_*_rps: median of %d alternating rounds of %s, %d keep-alive connections over loopback; the load generator (net/http client, JSON encoding of create bodies included) runs in the same process and shares the cores with the mock; rate limit disabled, journal on (default cap)",
		sz.rpsRounds, sz.rpsDuration, loadWorkers)
	return nil
}

func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func benchMockMemory(r *report, sz sizes) error {
	// Encode the bodies before the first heap reading, so only the mock's state is counted.
	bodies := make([][]byte, sz.memClients)
	for i := range bodies {
		bodies[i], _ = json.Marshal(newRequest(fmt.Sprintf("mem-%07d", i), i))
	}
	before := heapAlloc()
	b := mockserver.NewBackend(mockserver.WithSeed(5), mockserver.WithRateLimit(mockserver.RateLimitConfig{Disabled: true}))
	for i, body := range bodies {
		rec := serve(b, http.MethodPost, "/clients", body)
		if rec.Code != http.StatusAccepted && rec.Code != http.StatusCreated {
			return fmt.Errorf("POST /clients #%d: %d %s", i, rec.Code, rec.Body.String())
		}
		bodies[i] = nil
	}
	after := heapAlloc()
	perClient := (float64(after) - float64(before)) / float64(sz.memClients)
	r.add(le("mock_bytes_per_client", perClient, "B", 2048))

	// Query pages over those clients: names are "Nordic Widgets %06d ApS", so "Widgets 0123"
	// matches 100 of 100k.
	var ms []float64
	for k := range sz.listRuns {
		term := fmt.Sprintf("Widgets %04d", (k*37)%(sz.memClients/100))
		t0 := time.Now()
		rec := serve(b, http.MethodGet, "/clients?Query="+urlQueryEscape(term)+"&PageSize=50", nil)
		d := time.Since(t0)
		if rec.Code != http.StatusOK {
			return fmt.Errorf("GET /clients?Query: %d %s", rec.Code, rec.Body.String())
		}
		var page struct {
			Clients []json.RawMessage `json:"clients"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil || len(page.Clients) == 0 {
			return fmt.Errorf("GET /clients?Query=%s: %d clients, %v", term, len(page.Clients), err)
		}
		ms = append(ms, float64(d)/1e6)
	}
	r.add(le("list_query_ms", median(ms), "ms", 50))
	r.note("mock_bytes_per_client: live heap (after GC) of a Backend holding %d clients created through its ServeHTTP with httptest recorders, minus the heap before, divided by %d; default options (request journal on, capped at 100,000 entries, counted)",
		sz.memClients, sz.memClients)
	r.note("list_query_ms: median of %d GET /clients?Query=Widgets+NNNN&PageSize=50 through ServeHTTP over those %d clients (each query matches 100 names)", sz.listRuns, sz.memClients)
	runtime.KeepAlive(b)
	return nil
}

func urlQueryEscape(s string) string {
	return strings.TrimPrefix(url.Values{"q": {s}}.Encode(), "q=")
}

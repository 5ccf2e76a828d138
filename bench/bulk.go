package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/debitura-go/debitura"
	"github.com/debitura-go/debitura/mockserver"
	"github.com/hashicorp/go-retryablehttp"
)

// rateLimited is a mock limited to perSecond requests per second: one fixed 1-second window per
// API key (windows start at whole seconds, as Debitura's fixed windows start at whole periods).
func rateLimited(perSecond int) *mockserver.Server {
	return mockserver.New(mockserver.WithSeed(7), mockserver.WithRateLimit(mockserver.RateLimitConfig{
		Windows: []mockserver.RateWindow{{Limit: perSecond, Period: time.Second}},
	}))
}

// count429 counts the 429 answers of POST /clients in the mock's journal, and all requests.
func count429(s *mockserver.Server) (n429, total int) {
	for _, e := range s.Requests(mockserver.OpPostClients) {
		if e.Status == http.StatusTooManyRequests {
			n429++
		}
	}
	return n429, s.Count(mockserver.OpPostClients)
}

func bulkRequests(n int, prefix string) []*debitura.ClientCreateRequest {
	reqs := make([]*debitura.ClientCreateRequest, n)
	for i := range reqs {
		reqs[i] = newRequest(fmt.Sprintf("%s-%06d", prefix, i), i)
	}
	return reqs
}

// runBulk links sz.bulkN new clients with LinkMany against a fresh rate-limited mock.
func runBulk(sz sizes, opts ...debitura.Option) (el time.Duration, failed, n429, total int, err error) {
	s := rateLimited(sz.bulkRate)
	defer s.Close()
	// The Client's budget is told the mock's window: perSecond per fixed second is a sliding
	// window of one 1-s segment (both aligned to whole seconds). The bulk lane gets all of it:
	// nothing else runs.
	opts = append([]debitura.Option{debitura.WithBaseURL(s.URL),
		debitura.WithHTTPClient(&http.Client{Transport: newTransport()}),
		debitura.WithLimits(debitura.Limits{
			PerMinute: sz.bulkRate, PerHour: 1 << 30, PerDay: 1 << 30,
			Segment: time.Second, Minute: time.Second, Hour: time.Hour, Day: 24 * time.Hour,
		})}, opts...)
	c, err := debitura.New(mockserver.DefaultAPIKey, opts...)
	if err != nil {
		return 0, 0, 0, 0, err
	}
	reqs := bulkRequests(sz.bulkN, "bulk")
	t0 := time.Now()
	res, err := c.Clients.LinkMany(context.Background(), reqs, nil)
	el = time.Since(t0)
	if err != nil {
		return 0, 0, 0, 0, err
	}
	for _, x := range res {
		if x.Err != nil {
			failed++
		}
	}
	n429, total = count429(s)
	return el, failed, n429, total, nil
}

func benchBulk(r *report, sz sizes) error {
	el, failed, n429, total, err := runBulk(sz)
	if err != nil {
		return err
	}
	ideal := float64(sz.bulkN) / float64(sz.bulkRate)
	r.add(info("bulk_ideal_s", ideal, "s"))
	r.add(info("bulk_s", el.Seconds(), "s"))
	r.add(le("bulk_ratio", el.Seconds()/ideal, "x", 1.10))
	r.add(le("bulk_failed", float64(failed), "", 0))
	f := le("bulk_429", float64(n429), "", 0.02*float64(total))
	f.target = fmt.Sprintf("<= 2%% (%d)", int(0.02*float64(total)))
	r.add(f)
	r.add(info("bulk_429_pct", 100*float64(n429)/float64(max(total, 1)), "%"))
	// The same batch without the budget's correction (WithAdaptivePacing(false)).
	elOff, failedOff, off429, offTotal, err := runBulk(sz, debitura.WithAdaptivePacing(false))
	if err != nil {
		return err
	}
	r.add(info("bulk_nopacer_s", elOff.Seconds(), "s"))
	r.add(info("bulk_nopacer_failed", float64(failedOff), ""))
	r.add(info("bulk_nopacer_429", float64(off429), ""))
	r.add(info("bulk_nopacer_429_pct", 100*float64(off429)/float64(max(offTotal, 1)), "%"))
	r.note("bulk: Clients.LinkMany of %d new clients, default concurrency %d, the request budget told the mock's window (WithLimits), against the mock limited to %d requests per 1-s fixed window; %d POST /clients sent in all, %d of them answered 429. A fixed window lets the first (partial) and last windows go through in bursts, so bulk_ratio can be below 1. bulk_nopacer_*: the same batch with WithAdaptivePacing(false) (no correction of the budget), for comparison",
		sz.bulkN, debitura.DefaultLinkConcurrency, sz.bulkRate, total, n429)
	return nil
}

// naiveBody is what a user without the SDK would send: the documented JSON of POST /clients.
type naiveBody struct {
	ExternalTenantID string `json:"externalTenantId"`
	Client           struct {
		Name               string `json:"name"`
		RegistrationNumber string `json:"registrationNumber,omitempty"`
		Address            string `json:"address,omitempty"`
		ZipCode            string `json:"zipCode,omitempty"`
		City               string `json:"city,omitempty"`
		Country            string `json:"country"`
		SupportEmail       string `json:"supportEmail"`
		SupportPhone       string `json:"supportPhone,omitempty"`
	} `json:"client"`
	Users []struct {
		Name  string `json:"name"`
		Email string `json:"email"`
	} `json:"users"`
}

func benchNaive(r *report, sz sizes) error {
	s := rateLimited(sz.bulkRate)
	defer s.Close()
	el, failed := naiveLoop(s.URL, bulkRequests(sz.bulkN, "naive"))
	n429, total := count429(s)
	r.add(info("naive_s", el.Seconds(), "s"))
	r.add(info("naive_ratio", el.Seconds()/(float64(sz.bulkN)/float64(sz.bulkRate)), "x"))
	r.add(info("naive_failed", float64(failed), ""))
	r.add(info("naive_429", float64(n429), ""))
	r.note("naive: the same %d clients through go-retryablehttp's default client (retryablehttp.NewClient(), logger silenced only to keep the output readable), %d goroutines, POST /clients JSON with XApiKey, against a fresh mock with the same limit; %d requests sent, %d answered 429",
		sz.bulkN, debitura.DefaultLinkConcurrency, total, n429)
	return nil
}

// naiveLoop links reqs at base the way a user without this SDK would: go-retryablehttp's
// default client, DefaultLinkConcurrency goroutines. It returns the wall time and how many
// inputs failed.
func naiveLoop(base string, reqs []*debitura.ClientCreateRequest) (time.Duration, int) {
	rc := retryablehttp.NewClient() // its defaults: 4 retries, 1 s to 30 s exponential backoff
	rc.Logger = nil                 // silenced only so the table stays readable
	rc.HTTPClient.Transport = newTransport()
	jobs := make(chan *debitura.ClientCreateRequest)
	var mu sync.Mutex
	failed := 0
	var wg sync.WaitGroup
	t0 := time.Now()
	for range debitura.DefaultLinkConcurrency {
		wg.Go(func() {
			for q := range jobs {
				if !naivePost(rc, base, naiveBodyOf(q)) {
					mu.Lock()
					failed++
					mu.Unlock()
				}
			}
		})
	}
	for _, q := range reqs {
		jobs <- q
	}
	close(jobs)
	wg.Wait()
	return time.Since(t0), failed
}

// naiveBodyOf is the documented JSON body of q, built by hand as a user would.
func naiveBodyOf(q *debitura.ClientCreateRequest) *naiveBody {
	var b naiveBody
	b.ExternalTenantID = q.ExternalTenantID
	b.Client.Name, b.Client.RegistrationNumber = q.Client.Name, q.Client.RegistrationNumber
	b.Client.Address, b.Client.ZipCode, b.Client.City = q.Client.Address, q.Client.ZipCode, q.Client.City
	b.Client.Country, b.Client.SupportEmail, b.Client.SupportPhone = q.Client.Country, q.Client.SupportEmail, q.Client.SupportPhone
	for _, u := range q.Users {
		b.Users = append(b.Users, struct {
			Name  string `json:"name"`
			Email string `json:"email"`
		}{u.Name, u.Email})
	}
	return &b
}

func naivePost(rc *retryablehttp.Client, base string, b *naiveBody) bool {
	body, err := json.Marshal(b)
	if err != nil {
		return false
	}
	req, err := retryablehttp.NewRequest(http.MethodPost, base+"/clients", body)
	if err != nil {
		return false
	}
	setAPIHeaders(req.Header, true)
	resp, err := rc.Do(req)
	if err != nil {
		return false
	}
	drain(resp)
	return resp.StatusCode == http.StatusCreated || resp.StatusCode == http.StatusAccepted
}

// unlimitedLimits are budget limits no bench reaches, for Clients of a server without a rate
// limit.
func unlimitedLimits() debitura.Limits {
	l := debitura.DefaultLimits()
	l.PerMinute, l.PerHour, l.PerDay = 1<<30, 1<<30, 1<<30
	return l
}

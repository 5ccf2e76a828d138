package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/debitura-go/debitura"
	"github.com/debitura-go/debitura/mockserver"
)

// fleetReplicaArg makes the bench binary run as one replica of the fleet bench; its
// configuration comes in the fleetReplicaEnv variable as JSON, its result goes to stdout as
// JSON, and closing its stdin tells an interactive replica to stop.
const (
	fleetReplicaArg = "__fleet-replica"
	fleetReplicaEnv = "DEBITURA_BENCH_FLEET_REPLICA"
)

// Offsets of the request numbers (newRequest's i, which makes the e-mails) of the tenant
// groups, so no two groups share an e-mail.
const (
	existingOffset = 100_000
	tokenOffset    = 200_000
	newOffset      = 300_000
)

// replicaConfig is what the parent tells one replica.
type replicaConfig struct {
	Index       int       `json:"index"`
	Role        string    `json:"role"` // "bulk" or "interactive"
	MockURL     string    `json:"mockUrl"`
	RedisAddr   string    `json:"redisAddr"` // "" for the per-process (uncoordinated) mode
	Coordinated bool      `json:"coordinated"`
	StartAt     time.Time `json:"startAt"`
	Shape       shapeJSON `json:"shape"`
	Reserve     float64   `json:"reserve"`
	SealingKey  []byte    `json:"sealingKey"`
	// bulk: the tenants to back-fill
	BulkFrom   int    `json:"bulkFrom,omitempty"`
	BulkTo     int    `json:"bulkTo,omitempty"`
	BulkPrefix string `json:"bulkPrefix,omitempty"`
	// interactive
	Interval       time.Duration `json:"interval,omitempty"`
	NewPrefix      string        `json:"newPrefix,omitempty"`
	ExistingPrefix string        `json:"existingPrefix,omitempty"`
	Existing       int           `json:"existing,omitempty"`
	TokenPrefix    string        `json:"tokenPrefix,omitempty"`
	TokenTenants   int           `json:"tokenTenants,omitempty"`
}

// shapeJSON carries a windowShape to a replica.
type shapeJSON struct {
	PerMinute, PerHour, PerDay int
	Segment, Hour, Day         time.Duration
}

func (s windowShape) toJSON() shapeJSON {
	return shapeJSON{s.perMinute, s.perHour, s.perDay, s.segment, s.hour, s.day}
}

func (j shapeJSON) shape() windowShape {
	return windowShape{perMinute: j.PerMinute, perHour: j.PerHour, perDay: j.PerDay, segment: j.Segment, hour: j.Hour, day: j.Day}
}

// replicaResult is what one replica reports.
type replicaResult struct {
	Index    int       `json:"index"`
	Role     string    `json:"role"`
	Attempts int       `json:"attempts"` // HTTP attempts sent
	N429     int       `json:"n429"`
	Failed   int       `json:"failed"` // inputs (bulk) or calls (interactive) that ended in an error
	Errors   []string  `json:"errors,omitempty"`
	LastDone time.Time `json:"lastDone"` // bulk: when its last input settled
	// Accepted are the instants of the attempts the server did not refuse with 429 (interactive
	// replicas only: the other traffic of the floor).
	Accepted []time.Time `json:"accepted,omitempty"`
	// Posts and Mints count POST /clients and POST /oauth/token answered (not 429) per tenant.
	Posts map[string]int `json:"posts"`
	Mints map[string]int `json:"mints"`
	// LatencyMs are the interactive calls' wall times, in milliseconds; AddedMs the same minus
	// the time their HTTP attempts took (the wait the SDK added: budget, 429 hold, retries).
	LatencyMs []float64 `json:"latencyMs,omitempty"`
	AddedMs   []float64 `json:"addedMs,omitempty"`
	Calls     int       `json:"calls"`
}

// recorder is the replica's HTTP transport: it counts every attempt, the 429s, and per tenant
// the POST /clients and POST /oauth/token the server answered.
type recorder struct {
	base        http.RoundTripper
	keepTimes   bool
	mu          sync.Mutex
	res         *replicaResult
	interactive bool
	inHTTP      time.Duration // the total time of the attempts' round trips
}

// httpTime is the total time spent in round trips so far.
func (rc *recorder) httpTime() time.Duration {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.inHTTP
}

func (rc *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var tenant string
	if req.Method == http.MethodPost && req.GetBody != nil {
		if b, err := req.GetBody(); err == nil {
			var body struct {
				ExternalTenantID string `json:"externalTenantId"`
			}
			data, _ := io.ReadAll(b)
			_ = json.Unmarshal(data, &body)
			tenant = body.ExternalTenantID
		}
	}
	sent := time.Now()
	resp, err := rc.base.RoundTrip(req)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.inHTTP += time.Since(sent)
	rc.res.Attempts++
	if err != nil {
		return resp, err
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		rc.res.N429++
		return resp, nil
	}
	if rc.keepTimes {
		rc.res.Accepted = append(rc.res.Accepted, sent)
	}
	if resp.StatusCode < 500 && tenant != "" {
		switch req.URL.Path {
		case "/clients":
			rc.res.Posts[tenant]++
		case "/oauth/token":
			rc.res.Mints[tenant]++
		}
	}
	return resp, nil
}

// runFleetReplica is the body of one replica process.
func runFleetReplica() {
	var cfg replicaConfig
	if err := json.Unmarshal([]byte(os.Getenv(fleetReplicaEnv)), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, "fleet replica: bad configuration:", err)
		os.Exit(2)
	}
	res, err := replica(cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "fleet replica %d (%s): %v\n", cfg.Index, cfg.Role, err)
		os.Exit(1)
	}
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		os.Exit(1)
	}
}

func replica(cfg replicaConfig) (*replicaResult, error) {
	res := &replicaResult{Index: cfg.Index, Role: cfg.Role, Posts: map[string]int{}, Mints: map[string]int{}}
	rec := &recorder{base: newTransport(), res: res, keepTimes: cfg.Role == "interactive"}
	opts := []debitura.Option{debitura.WithBaseURL(cfg.MockURL), debitura.WithHTTPClient(&http.Client{Transport: rec})}
	if cfg.Coordinated {
		more, closeFn, err := coordinatedOptions(cfg)
		if err != nil {
			return nil, err
		}
		defer closeFn()
		opts = append(opts, more...)
	} else {
		opts = append(opts, perProcessOptions(cfg)...)
	}
	c, err := debitura.New(mockserver.DefaultAPIKey, opts...)
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	time.Sleep(time.Until(cfg.StartAt))
	var errs []string
	fail := func(err error) {
		res.Failed++
		if len(errs) < 5 {
			errs = append(errs, err.Error())
		}
	}
	switch cfg.Role {
	case "bulk":
		in := func(yield func(*debitura.ClientCreateRequest) bool) {
			for i := cfg.BulkFrom; i < cfg.BulkTo; i++ {
				if !yield(newRequest(fmt.Sprintf("%s-%06d", cfg.BulkPrefix, i), i)) {
					return
				}
			}
		}
		sopts := &debitura.LinkStreamOptions{Total: cfg.BulkTo - cfg.BulkFrom, MaxWait: cfg.Shape.Day}
		for r, err := range c.Clients.LinkStream(ctx, in, sopts) {
			if err != nil {
				return nil, err
			}
			if r.Err != nil {
				fail(r.Err)
			}
		}
		res.LastDone = time.Now()
	case "interactive":
		stop := make(chan struct{})
		go func() { _, _ = io.Copy(io.Discard, bufio.NewReader(os.Stdin)); close(stop) }()
		sources := make([]*debitura.CachedTokenSource, cfg.TokenTenants)
		for i := range sources {
			sources[i] = c.Tokens.Source(fmt.Sprintf("%s-%03d", cfg.TokenPrefix, i))
		}
		// Call k starts at StartAt + k×Interval in both interactive replicas, so they handle
		// the same new tenant at the same instant.
		for k := 0; ; k++ {
			timer := time.NewTimer(time.Until(cfg.StartAt.Add(time.Duration(k+1) * cfg.Interval)))
			select {
			case <-stop:
				timer.Stop()
				res.Errors = errs
				return res, nil
			case <-timer.C:
			}
			t0, h0 := time.Now(), rec.httpTime()
			var err error
			switch k % 3 {
			case 0:
				_, err = sources[(k/3)%len(sources)].Token(ctx)
			case 1:
				_, err = c.Clients.EnsureLinked(ctx, newRequest(fmt.Sprintf("%s-%03d", cfg.ExistingPrefix, (k/3)%cfg.Existing), existingOffset+(k/3)%cfg.Existing))
			case 2:
				// Both interactive replicas walk the same new tenants at the same pace, so they
				// race to link each one, as two replicas handling one signup would.
				_, err = c.Clients.EnsureLinked(ctx, newRequest(fmt.Sprintf("%s-%06d", cfg.NewPrefix, k/3), newOffset+k/3))
			}
			wall := time.Since(t0)
			res.LatencyMs = append(res.LatencyMs, float64(wall)/1e6)
			res.AddedMs = append(res.AddedMs, float64(max(wall-(rec.httpTime()-h0), 0))/1e6)
			res.Calls++
			if err != nil {
				fail(err)
			}
		}
	default:
		return nil, fmt.Errorf("unknown role %q", cfg.Role)
	}
	res.Errors = errs
	return res, nil
}

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/debitura-go/debitura"
	"github.com/debitura-go/debitura/mockserver"
)

// staticServerArg makes the bench binary run as the static server of the overhead
// measurement. The server runs in a child process so that its allocations and GC do not count
// against either client.
const staticServerArg = "__static-server"

const overheadTenant = "bench-overhead-tenant"

// realisticGetBody returns the body the mock sends for GET /clients/{id} of a freshly linked
// client (a ClientCreatedResponse with one user, onboarding links, case stats and KYC status).
func realisticGetBody() ([]byte, error) {
	b := mockserver.NewBackend(mockserver.WithSeed(1))
	body, _ := json.Marshal(newRequest(overheadTenant, 1))
	rec := serve(b, http.MethodPost, "/clients", body)
	if rec.Code != http.StatusAccepted && rec.Code != http.StatusCreated {
		return nil, fmt.Errorf("mock POST /clients: %d %s", rec.Code, rec.Body.String())
	}
	rec = serve(b, http.MethodGet, "/clients/"+overheadTenant, nil)
	if rec.Code != http.StatusOK {
		return nil, fmt.Errorf("mock GET /clients/{id}: %d %s", rec.Code, rec.Body.String())
	}
	return rec.Body.Bytes(), nil
}

// serveStatic is the child process: it answers every request with the realistic body, prints
// its URL on stdout and exits when stdin closes.
func serveStatic() {
	body, err := realisticGetBody()
	if err != nil {
		fmt.Fprintln(os.Stderr, "static server:", err)
		os.Exit(1)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "static server:", err)
		os.Exit(1)
	}
	clen := fmt.Sprint(len(body))
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("XApiKey") == "" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		h := w.Header()
		h["Content-Type"] = []string{"application/json; charset=utf-8"}
		h["Content-Length"] = []string{clen}
		_, _ = w.Write(body)
	})}
	go func() { _ = srv.Serve(ln) }()
	fmt.Printf("http://%s\n", ln.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

func startStaticServer() (string, func(), error) {
	exe, err := os.Executable()
	if err != nil {
		return "", nil, err
	}
	cmd := exec.Command(exe, staticServerArg)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return "", nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() { _ = stdin.Close(); _ = cmd.Wait() }
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		stop()
		return "", nil, fmt.Errorf("static server did not start: %w", err)
	}
	return strings.TrimSpace(line), stop, nil
}

// rawGetter is the same GET without the SDK: net/http, the same headers, encoding/json into
// the same struct type.
type rawGetter struct {
	hc   *http.Client
	base string
	ua   string
}

func (g *rawGetter) get(ctx context.Context, id string) (*debitura.LinkedClient, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.base+"/clients/"+url.PathEscape(id), nil)
	if err != nil {
		return nil, err
	}
	setAPIHeaders(req.Header, false)
	req.Header.Set("User-Agent", g.ua)
	req.Header.Set("Accept", "application/json")
	resp, err := g.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET: %s", resp.Status)
	}
	var lc debitura.LinkedClient
	if err := json.NewDecoder(resp.Body).Decode(&lc); err != nil {
		return nil, err
	}
	return &lc, nil
}

func benchOverhead(r *report, sz sizes) error {
	body, err := realisticGetBody()
	if err != nil {
		return err
	}
	bodyLen := len(body)
	base, stop, err := startStaticServer()
	if err != nil {
		return err
	}
	defer stop()
	c, err := debitura.New(mockserver.DefaultAPIKey, debitura.WithBaseURL(base),
		debitura.WithHTTPClient(&http.Client{Transport: newTransport()}),
		debitura.WithLimits(unlimitedLimits())) // the server has no rate limit
	if err != nil {
		return err
	}
	raw := &rawGetter{hc: &http.Client{Transport: newTransport()}, base: base, ua: "debitura-go/" + debitura.Version}
	ctx := context.Background()
	sdkCall := func() error {
		lc, err := c.Clients.Get(ctx, overheadTenant)
		if err == nil && lc.ExternalTenantID != overheadTenant {
			err = errors.New("SDK decoded the wrong client")
		}
		return err
	}
	rawCall := func() error {
		lc, err := raw.get(ctx, overheadTenant)
		if err == nil && lc.ExternalTenantID != overheadTenant {
			err = errors.New("raw client decoded the wrong client")
		}
		return err
	}
	timeCalls := func(f func() error, n int) (time.Duration, error) {
		t0 := time.Now()
		for range n {
			if err := f(); err != nil {
				return 0, err
			}
		}
		return time.Since(t0) / time.Duration(n), nil
	}
	// warm up connections, pools and caches
	for _, f := range []func() error{sdkCall, rawCall} {
		if _, err := timeCalls(f, 200); err != nil {
			return err
		}
	}
	var ratios, sdkT, rawT []float64
	for i := range sz.overheadRounds {
		var ds, dr time.Duration
		var err1, err2 error
		if i%2 == 0 {
			ds, err1 = timeCalls(sdkCall, sz.overheadCalls)
			dr, err2 = timeCalls(rawCall, sz.overheadCalls)
		} else {
			dr, err2 = timeCalls(rawCall, sz.overheadCalls)
			ds, err1 = timeCalls(sdkCall, sz.overheadCalls)
		}
		if err := errors.Join(err1, err2); err != nil {
			return err
		}
		ratios = append(ratios, float64(ds)/float64(dr))
		sdkT = append(sdkT, float64(ds)/1e3)
		rawT = append(rawT, float64(dr)/1e3)
	}
	var failed error
	sdkAllocs := testing.AllocsPerRun(500, func() {
		if err := sdkCall(); err != nil {
			failed = err
		}
	})
	rawAllocs := testing.AllocsPerRun(500, func() {
		if err := rawCall(); err != nil {
			failed = err
		}
	})
	if failed != nil {
		return failed
	}
	r.add(le("sdk_overhead_ratio", median(ratios), "x", 1.10))
	r.add(info("sdk_get_us", median(sdkT), "µs/call"))
	r.add(info("raw_get_us", median(rawT), "µs/call"))
	r.add(info("sdk_allocs_per_op", sdkAllocs, "allocs"))
	r.add(info("raw_allocs_per_op", rawAllocs, "allocs"))
	r.note("sdk_overhead_ratio: median over %d interleaved rounds of %d sequential calls of Clients.Get / the same GET with net/http + encoding/json (same headers, decoded into debitura.LinkedClient), keep-alive loopback, against a static handler in a child process returning the mock's ClientCreatedResponse body (%d bytes); allocs are client-side only (testing.AllocsPerRun)",
		sz.overheadRounds, sz.overheadCalls, bodyLen)
	return nil
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// newRequest is a realistic new client: company details, one user, no cases.
func newRequest(id string, i int) *debitura.ClientCreateRequest {
	return &debitura.ClientCreateRequest{
		ExternalTenantID: id,
		Client: debitura.ClientDetails{
			Name:               fmt.Sprintf("Nordic Widgets %06d ApS", i),
			RegistrationNumber: fmt.Sprintf("DK%08d", 10000000+i),
			Address:            fmt.Sprintf("Vesterbrogade %d", i%300+1),
			ZipCode:            "1620",
			City:               "København V",
			Country:            "DK",
			SupportEmail:       fmt.Sprintf("support+%d@widgets%d.example", i, i),
			SupportPhone:       "+45 12 34 56 78",
		},
		Users: []debitura.ClientUser{{Name: fmt.Sprintf("Anna Jensen %d", i), Email: fmt.Sprintf("anna.%d@widgets%d.example", i, i)}},
	}
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/debitura-go/debitura"
	"github.com/debitura-go/debitura/mockserver"
)

// fleetSizes are the workload of one -fleet run.
type fleetSizes struct {
	shape        windowShape
	reserve      float64       // the bulk lane's reserve (contract default 0.20)
	bulkN        int           // new clients back-filled, split among the bulk replicas
	interval     time.Duration // between two calls of one interactive replica
	existing     int           // tenants linked before the run, for EnsureLinked of existing ones
	tokenTenants int           // onboarded tenants whose tokens both interactive replicas ask for
	redisDown    [2]float64    // the third run stops redis-server over this share of the floor
}

const (
	bulkReplicas        = 6
	interactiveReplicas = 2
)

// Scaled shapes of the fleet runs (see bench/README.md): quick, the minute is 1.2 s and the
// hour 6 s; full, the minute is 6 s and the hour 36 s, and the back-fill lasts longer than an
// hour, so it crosses at least one fixed-window boundary.
var (
	fleetQuick = fleetSizes{
		shape:   windowShape{perMinute: 120, perHour: 500, perDay: 5000, segment: 200 * time.Millisecond, hour: 6 * time.Second, day: 60 * time.Second},
		reserve: 0.20, bulkN: 600, interval: 250 * time.Millisecond, existing: 20, tokenTenants: 10,
		redisDown: [2]float64{0.25, 0.6},
	}
	fleetFull = fleetSizes{
		shape:   windowShape{perMinute: 200, perHour: 1500, perDay: 15000, segment: time.Second, hour: 36 * time.Second, day: 360 * time.Second},
		reserve: 0.20, bulkN: 1800, interval: 250 * time.Millisecond, existing: 20, tokenTenants: 10,
		redisDown: [2]float64{0.25, 0.6},
	}
)

// fleetMode is one of the three runs.
type fleetMode struct {
	prefix      string // of the figures
	coordinated bool
	redisDown   bool
}

// fleetOutcome is the aggregate of one run.
type fleetOutcome struct {
	backfill, floor time.Duration
	attempts, n429  int
	failed          int
	dupCreates      int
	mintsPerClient  float64
	p99ms           float64 // of the wait added to interactive calls
	p99wallMs       float64 // of their wall time
	calls           int
	errs            []string
	hourBoundaries  int
}

// benchFleet runs the three fleet runs and reports their figures.
func benchFleet(r *report, quick bool) error {
	fs := fleetFull
	if quick {
		fs = fleetQuick
	}
	dir, err := os.MkdirTemp("", "debitura-fleet-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	mockBin, err := buildMock(dir)
	if err != nil {
		return err
	}
	mock, err := startMockBinary(mockBin)
	if err != nil {
		return err
	}
	defer mock.stop()
	redisBin, err := exec.LookPath("redis-server")
	if err != nil {
		return errors.New("redis-server is not installed (Debian/Ubuntu: apt-get install redis-server); the fleet bench needs it")
	}

	modes := []fleetMode{{prefix: "fleet_", coordinated: true}, {prefix: "fleet_uncoordinated_"}, {prefix: "fleet_redis_down_", coordinated: true, redisDown: true}}
	for _, m := range modes {
		red, err := startRedis(redisBin, filepath.Join(dir, "redis-"+strings.TrimSuffix(m.prefix, "_")))
		if err != nil {
			return err
		}
		out, err := runFleetMode(fs, m, mock, red)
		red.stop()
		if err != nil {
			return fmt.Errorf("%s run: %w", strings.TrimSuffix(m.prefix, "_"), err)
		}
		reportFleet(r, fs, m, out)
	}
	return nil
}

func reportFleet(r *report, fs fleetSizes, m fleetMode, o fleetOutcome) {
	p := m.prefix
	ratio := o.backfill.Seconds() / o.floor.Seconds()
	pct := 100 * float64(o.n429) / float64(max(o.attempts, 1))
	if m.redisDown {
		r.add(le("fleet_redis_down_failed", float64(o.failed), "", 0))
		r.add(info("fleet_redis_down_ratio", ratio, "x"))
		r.add(info("fleet_redis_down_429_pct", pct, "%"))
	} else if m.coordinated {
		r.add(info(p+"floor_s", o.floor.Seconds(), "s"))
		r.add(info(p+"backfill_s", o.backfill.Seconds(), "s"))
		r.add(le(p+"ratio", ratio, "x", 1.05))
		r.add(le(p+"429_pct", pct, "%", 0.5))
		r.add(le(p+"failed", float64(o.failed), "", 0))
		r.add(le(p+"dup_creates", float64(o.dupCreates), "", 0))
		f := le(p+"token_mints_per_client", o.mintsPerClient, "", 1)
		f.target, f.pass = "= 1", o.mintsPerClient == 1
		r.add(f)
		r.add(le(p+"interactive_p99_ms", o.p99ms, "ms", 50))
		r.add(info(p+"interactive_p99_wall_ms", o.p99wallMs, "ms"))
	} else {
		r.add(info(p+"floor_s", o.floor.Seconds(), "s"))
		r.add(info(p+"backfill_s", o.backfill.Seconds(), "s"))
		r.add(info(p+"ratio", ratio, "x"))
		r.add(info(p+"429_pct", pct, "%"))
		r.add(info(p+"failed", float64(o.failed), ""))
		r.add(info(p+"dup_creates", float64(o.dupCreates), ""))
		r.add(info(p+"token_mints_per_client", o.mintsPerClient, ""))
		r.add(info(p+"interactive_p99_ms", o.p99ms, "ms"))
		r.add(info(p+"interactive_p99_wall_ms", o.p99wallMs, "ms"))
	}
	what := "coordinated (redisfleet: shared budget, token cache, link lock)"
	if !m.coordinated {
		what = "uncoordinated (per-process: each Client's own in-memory rate-limit state and token cache, no Redis)"
	}
	if m.redisDown {
		what += fmt.Sprintf(", redis-server stopped from %.0f%% to %.0f%% of the floor", 100*fs.redisDown[0], 100*fs.redisDown[1])
	}
	errs := ""
	if len(o.errs) > 0 {
		errs = "; first errors: " + strings.Join(o.errs, " | ")
	}
	r.note("%s*: %s: %d bulk + %d interactive replica processes against one debitura-mock binary limited to %s (bulk reserve %.0f%%); %d new clients back-filled in %.2fs, floor %.2fs (%d scaled-hour boundaries crossed); %d HTTP attempts, %d answered 429; %d interactive calls; %d failed%s",
		p, what, bulkReplicas, interactiveReplicas, fs.shape, 100*fs.reserve, fs.bulkN, o.backfill.Seconds(), o.floor.Seconds(), o.hourBoundaries, o.attempts, o.n429, o.calls, o.failed, errs)
}

// runFleetMode runs one fleet run: seed the mock, start the replicas at one instant, wait for
// the back-fill, stop the interactive replicas, aggregate.
func runFleetMode(fs fleetSizes, m fleetMode, mock *mockProc, red *redisProc) (fleetOutcome, error) {
	var o fleetOutcome
	ctx := context.Background()
	ctl, err := mockserver.Dial(ctx, mock.url)
	if err != nil {
		return o, err
	}
	if err := ctl.ResetAll(); err != nil {
		return o, err
	}
	if err := ctl.SetRateLimit(mockserver.RateLimitConfig{Disabled: true}); err != nil {
		return o, err
	}
	seeder, err := debitura.New(mockserver.DefaultAPIKey, debitura.WithBaseURL(mock.url))
	if err != nil {
		return o, err
	}
	for i := range fs.existing {
		if _, err := seeder.Clients.Create(ctx, newRequest(fmt.Sprintf("fleet-existing-%03d", i), existingOffset+i)); err != nil {
			return o, fmt.Errorf("seeding: %w", err)
		}
	}
	for i := range fs.tokenTenants {
		id := fmt.Sprintf("fleet-token-%03d", i)
		if _, err := seeder.Clients.Create(ctx, newRequest(id, tokenOffset+i)); err != nil {
			return o, fmt.Errorf("seeding: %w", err)
		}
		if err := ctl.CompleteOnboarding(mockserver.DefaultAPIKey, id); err != nil {
			return o, fmt.Errorf("seeding: %w", err)
		}
	}
	if err := ctl.SetRateLimit(fs.shape.mock()); err != nil { // also forgets the seeding's counts
		return o, err
	}

	exe, err := os.Executable()
	if err != nil {
		return o, err
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	startAt := time.Now().Add(1500 * time.Millisecond)
	base := replicaConfig{MockURL: mock.url, Coordinated: m.coordinated, StartAt: startAt,
		Shape: fs.shape.toJSON(), Reserve: fs.reserve, SealingKey: key}
	if m.coordinated {
		base.RedisAddr = red.addr
	}
	var procs []*replicaProc
	defer func() {
		for _, p := range procs {
			p.kill()
		}
	}()
	per := fs.bulkN / bulkReplicas
	for i := range bulkReplicas + interactiveReplicas {
		cfg := base
		cfg.Index = i
		if i < bulkReplicas {
			cfg.Role, cfg.BulkPrefix = "bulk", "fleet-bulk"
			cfg.BulkFrom, cfg.BulkTo = i*per, (i+1)*per
			if i == bulkReplicas-1 {
				cfg.BulkTo = fs.bulkN
			}
		} else {
			cfg.Role, cfg.Interval = "interactive", fs.interval
			cfg.NewPrefix, cfg.ExistingPrefix, cfg.Existing = "fleet-new", "fleet-existing", fs.existing
			cfg.TokenPrefix, cfg.TokenTenants = "fleet-token", fs.tokenTenants
		}
		p, err := startReplica(exe, cfg)
		if err != nil {
			return o, err
		}
		procs = append(procs, p)
	}
	if m.redisDown {
		// Stop redis-server over a share of the expected back-fill, then start it again.
		est := floorTime(fs.shape.windows(), 1-fs.reserve, startAt, fs.bulkN, nil)
		go func() {
			time.Sleep(time.Until(startAt.Add(time.Duration(fs.redisDown[0] * float64(est)))))
			red.stop()
			time.Sleep(time.Duration((fs.redisDown[1] - fs.redisDown[0]) * float64(est)))
			_ = red.restart()
		}()
	}
	var results []replicaResult
	for _, p := range procs[:bulkReplicas] {
		res, err := p.wait()
		if err != nil {
			return o, err
		}
		results = append(results, res)
	}
	for _, p := range procs[bulkReplicas:] {
		p.stopInput()
	}
	for _, p := range procs[bulkReplicas:] {
		res, err := p.wait()
		if err != nil {
			return o, err
		}
		results = append(results, res)
	}

	var others []time.Time
	var lat, added []float64
	posts, mints := map[string]int{}, map[string]int{}
	var end time.Time
	for _, res := range results {
		o.attempts += res.Attempts
		o.n429 += res.N429
		o.failed += res.Failed
		o.calls += res.Calls
		o.errs = append(o.errs, res.Errors...)
		others = append(others, res.Accepted...)
		lat = append(lat, res.LatencyMs...)
		added = append(added, res.AddedMs...)
		for t, n := range res.Posts {
			posts[t] += n
		}
		for t, n := range res.Mints {
			mints[t] += n
		}
		if res.Role == "bulk" && res.LastDone.After(end) {
			end = res.LastDone
		}
	}
	if len(o.errs) > 5 {
		o.errs = o.errs[:5]
	}
	o.backfill = end.Sub(startAt)
	o.floor = floorTime(fs.shape.windows(), 1-fs.reserve, startAt, fs.bulkN, others)
	o.hourBoundaries = int(end.UnixNano()/int64(fs.shape.hour) - startAt.UnixNano()/int64(fs.shape.hour))
	for _, n := range posts {
		o.dupCreates += max(n-1, 0)
	}
	total := 0
	for i := range fs.tokenTenants {
		total += mints[fmt.Sprintf("fleet-token-%03d", i)]
	}
	o.mintsPerClient = float64(total) / float64(fs.tokenTenants)
	o.p99ms = percentile(added, 0.99)
	o.p99wallMs = percentile(lat, 0.99)
	return o, nil
}

// percentile is the nearest-rank percentile q of xs (0 for none).
func percentile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// replicaProc is one running replica process.
type replicaProc struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout bytes.Buffer
	once   sync.Once
}

func startReplica(exe string, cfg replicaConfig) (*replicaProc, error) {
	p := &replicaProc{cmd: exec.Command(exe, fleetReplicaArg)}
	p.cmd.Env = append(os.Environ(), fleetReplicaEnv+"="+compactJSON(cfg))
	p.cmd.Stdout = &p.stdout
	p.cmd.Stderr = os.Stderr
	in, err := p.cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	p.stdin = in
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *replicaProc) stopInput() { p.once.Do(func() { _ = p.stdin.Close() }) }

func (p *replicaProc) wait() (replicaResult, error) {
	var res replicaResult
	err := p.cmd.Wait()
	p.cmd = nil
	if err != nil {
		return res, fmt.Errorf("replica: %w", err)
	}
	if err := json.Unmarshal(p.stdout.Bytes(), &res); err != nil {
		return res, fmt.Errorf("replica result: %w", err)
	}
	return res, nil
}

func (p *replicaProc) kill() {
	p.stopInput()
	if p.cmd != nil && p.cmd.Process != nil {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
	}
}

// moduleRoot is the directory of this repository's go.mod, found from the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(data, []byte("module github.com/debitura-go/debitura\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run the fleet bench from inside the repository (go run ./bench -fleet)")
		}
		dir = parent
	}
}

// buildMock builds cmd/debitura-mock into dir.
func buildMock(dir string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "debitura-mock")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/debitura-mock")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/debitura-mock: %v\n%s", err, out)
	}
	return bin, nil
}

// mockProc is the running mock binary.
type mockProc struct {
	cmd *exec.Cmd
	url string
}

func startMockBinary(bin string) (*mockProc, error) {
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-seed", "1")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "listening on ") {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("debitura-mock did not start: %q %v", line, err)
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	return &mockProc{cmd: cmd, url: strings.TrimSpace(strings.TrimPrefix(line, "listening on "))}, nil
}

func (m *mockProc) stop() {
	_ = m.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = m.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = m.cmd.Process.Kill()
		<-done
	}
}

// redisProc is a redis-server on a free loopback port with its own directory, no persistence.
type redisProc struct {
	bin, dir, addr string
	port           int
	mu             sync.Mutex
	cmd            *exec.Cmd
}

func startRedis(bin, dir string) (*redisProc, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	r := &redisProc{bin: bin, dir: dir, port: port, addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
	return r, r.restart()
}

// restart starts the server (again) on its port.
func (r *redisProc) restart() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd != nil {
		return nil
	}
	cmd := exec.Command(r.bin, "--save", "", "--appendonly", "no", "--dir", r.dir, "--port", strconv.Itoa(r.port),
		"--bind", "127.0.0.1", "--daemonize", "no", "--protected-mode", "yes", "--loglevel", "warning")
	if err := cmd.Start(); err != nil {
		return err
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if c, err := net.DialTimeout("tcp", r.addr, 100*time.Millisecond); err == nil {
			_ = c.Close()
			r.cmd = cmd
			return nil
		}
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	return fmt.Errorf("redis-server on %s did not start", r.addr)
}

func (r *redisProc) stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
	r.cmd = nil
}

// compactJSON is v as one line of JSON.
func compactJSON(v any) string {
	var b bytes.Buffer
	_ = json.NewEncoder(&b).Encode(v)
	return string(bytes.TrimSpace(b.Bytes()))
}

// Command fleet runs three "replicas" of a partner service in one process, each with its own
// Client and its own Redis connections, coordinated through package redisfleet: one request
// budget with an interactive and a bulk lane, one token mint per tenant, one POST /clients per
// new tenant, and what happens when Redis goes away.
//
// It runs offline: an embedded mock server and a redis-server it starts itself on a free
// loopback port with a temporary directory (stopped at the end). Without redis-server installed
// it says how to install it and exits 0.
//
//	go run ./examples/fleet
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"time"

	"github.com/debitura-go/debitura"
	"github.com/debitura-go/debitura/mockserver"
	"github.com/debitura-go/debitura/redisfleet"
	"github.com/redis/go-redis/v9"
)

func main() {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		fmt.Println("fleet: redis-server is not installed, so there is nothing to coordinate on; install it to run this example (Debian/Ubuntu: apt-get install redis-server)")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx, bin); err != nil {
		fmt.Fprintln(os.Stderr, "fleet:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, bin string) error {
	rs, err := startRedis(ctx, bin)
	if err != nil {
		return err
	}
	defer rs.stop()
	redis.SetLogger(quiet{}) // go-redis logs every failed dial while Redis is stopped

	mock := mockserver.New()
	defer mock.Close()

	// The sealing key: 32 random bytes, the same on every replica (from a secret store in
	// production).
	sealingKey := make([]byte, 32)
	_, _ = rand.Read(sealingKey)

	// Debitura's windows, scaled down so the example shows the lanes in seconds: 60 requests
	// per 6-second sliding window in 1-second segments; the bulk lane may use 80 % of it.
	limits := debitura.DefaultLimits()
	limits.PerMinute, limits.Segment, limits.Minute = 60, time.Second, 6*time.Second

	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{Level: slog.LevelInfo}))
	replicas := make([]*debitura.Client, 3)
	for i := range replicas {
		rdb := redis.NewClient(&redis.Options{Addr: rs.addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond, ContextTimeoutEnabled: true})
		defer rdb.Close()
		fleet, err := redisfleet.New(rdb, mockserver.DefaultAPIKey,
			redisfleet.WithSealingKey(sealingKey),
			redisfleet.WithLogger(logger.With("replica", i)),
			redisfleet.WithFailover(200*time.Millisecond, 30*time.Second))
		if err != nil {
			return err
		}
		opts, err := fleet.Options(limits)
		if err != nil {
			return err
		}
		c, err := debitura.New(mockserver.DefaultAPIKey, append(opts,
			debitura.WithBaseURL(mock.URL), debitura.WithHTTPClient(mock.Client()),
			debitura.WithBulkMaxWait(10*time.Second))...)
		if err != nil {
			return err
		}
		replicas[i] = c
	}

	// 1. One customer signs up and three replicas handle it at once: one POST /clients.
	mock.ResetJournal()
	each(replicas, func(i int, c *debitura.Client) error {
		_, err := c.Clients.EnsureLinked(ctx, tenant("signup-1"))
		return err
	})
	fmt.Printf("1. EnsureLinked(signup-1) on 3 replicas at once: %d POST /clients\n", mock.Count("postClients"))

	// 2. Three replicas need the customer's token: one POST /oauth/token.
	if err := mock.CompleteOnboarding(mockserver.DefaultAPIKey, "signup-1"); err != nil {
		return err
	}
	mock.ResetJournal()
	each(replicas, func(i int, c *debitura.Client) error {
		_, err := c.Tokens.Source("signup-1").Token(ctx)
		return err
	})
	fmt.Printf("2. Tokens.Source(signup-1) on 3 replicas: %d POST /oauth/token\n", mock.Count("postOauthToken"))

	// 3. A back-fill of 70 clients (bulk lane) on replica 0 while replica 1 serves signups
	// (interactive lane): the back-fill takes at most 48 slots per window, the signups wait
	// for none.
	var backfill []*debitura.ClientCreateRequest
	for i := range 70 {
		backfill = append(backfill, tenant("backfill-"+strconv.Itoa(i)))
	}
	var (
		wg        sync.WaitGroup
		linked    int
		worstWait time.Duration
	)
	start := time.Now()
	wg.Go(func() {
		res, _ := replicas[0].Clients.LinkMany(ctx, backfill, nil)
		for _, r := range res {
			if r.Err == nil {
				linked++
			}
		}
	})
	time.Sleep(500 * time.Millisecond)
	for i := range 5 {
		var resp debitura.Response
		if _, err := replicas[1].Clients.EnsureLinked(ctx, tenant("live-"+strconv.Itoa(i)), debitura.WithResponse(&resp)); err != nil {
			return err
		}
		worstWait = max(worstWait, resp.RateLimitWait)
	}
	wg.Wait()
	fmt.Printf("3. back-fill: %d of %d linked in %.1fs (bulk lane); 5 live signups meanwhile, longest wait %v\n",
		linked, len(backfill), time.Since(start).Seconds(), worstWait.Round(time.Millisecond))

	// 4. Redis goes away: every call still succeeds on the in-process fallback (one Warn per
	// replica), and the replicas go back to Redis when it answers again.
	rs.stop()
	for i, c := range replicas {
		if _, err := c.Clients.EnsureLinked(ctx, tenant("outage-"+strconv.Itoa(i))); err != nil {
			return fmt.Errorf("a call failed while Redis was down: %w", err)
		}
	}
	fmt.Println("4. Redis stopped: EnsureLinked on every replica still succeeded (see the Warn records above)")
	return nil
}

// each runs f for every replica concurrently and reports the first error.
func each(cs []*debitura.Client, f func(i int, c *debitura.Client) error) {
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Go(func() {
			if err := f(i, c); err != nil {
				fmt.Fprintf(os.Stderr, "fleet: replica %d: %v\n", i, err)
			}
		})
	}
	wg.Wait()
}

func tenant(ext string) *debitura.ClientCreateRequest {
	email := ext + "@customer.example"
	return &debitura.ClientCreateRequest{
		ExternalTenantID: ext,
		Client:           debitura.ClientDetails{Name: "Company " + ext, Country: "DK", SupportEmail: email},
		Users:            []debitura.ClientUser{{Name: "Ann Hansen", Email: email}},
	}
}

// redisServer is the redis-server this example runs.
type redisServer struct {
	addr string
	cmd  *exec.Cmd
	dir  string
	once sync.Once
}

// startRedis starts redis-server on a free loopback port with a temporary directory and no
// persistence, and waits until it answers PING.
func startRedis(ctx context.Context, bin string) (*redisServer, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	dir, err := os.MkdirTemp("", "debitura-fleet-redis-")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--dir", dir, "--daemonize", "no", "--loglevel", "warning")
	if err := cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("starting redis-server: %w", err)
	}
	rs := &redisServer{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), cmd: cmd, dir: dir}
	rdb := redis.NewClient(&redis.Options{Addr: rs.addr, MaxRetries: -1})
	defer rdb.Close()
	for deadline := time.Now().Add(5 * time.Second); ; {
		if rdb.Ping(ctx).Err() == nil {
			return rs, nil
		}
		if time.Now().After(deadline) {
			rs.stop()
			return nil, errors.New("redis-server did not answer PING within 5s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop kills the server and removes its directory; it may be called twice.
func (rs *redisServer) stop() {
	rs.once.Do(func() {
		_ = rs.cmd.Process.Kill()
		_ = rs.cmd.Wait()
		_ = os.RemoveAll(rs.dir)
	})
}

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

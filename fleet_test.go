package debitura_test

// The fleet hooks of fleet.go (WithTokenCache, WithLinkLocker) with in-memory implementations,
// so that the root package checks what it promises to redisfleet without a Redis server. (The
// fleet options' refusals are rows of TestNewOptionsValidation and TestCallOptionErrors.)

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/debitura-go/debitura"
	"github.com/debitura-go/debitura/mockserver"
	"github.com/google/go-cmp/cmp"
)

// memLocker is a Locker of one process: one mutex per name. Every Lock first waits until
// `meet` calls have arrived (so that concurrent callers really contend); then fail, when set,
// is its error, and block makes it wait for ctx instead.
type memLocker struct {
	meet  sync.WaitGroup
	mu    sync.Mutex
	locks map[string]*sync.Mutex
	names []string
	fail  error
	block bool
}

// newMemLocker returns a memLocker whose Lock calls wait for each other until meet have come.
func newMemLocker(meet int, fail error, block bool) *memLocker {
	l := &memLocker{fail: fail, block: block}
	l.meet.Add(meet)
	return l
}

func (l *memLocker) Lock(ctx context.Context, name string) (func(), error) {
	l.mu.Lock()
	l.names = append(l.names, name)
	if l.locks == nil {
		l.locks = map[string]*sync.Mutex{}
	}
	m := l.locks[name]
	if m == nil {
		m = new(sync.Mutex)
		l.locks[name] = m
	}
	fail, block := l.fail, l.block
	l.mu.Unlock()
	l.meet.Done()
	l.meet.Wait()
	switch {
	case fail != nil:
		return nil, fail
	case block:
		<-ctx.Done()
		return nil, ctx.Err()
	}
	m.Lock()
	return m.Unlock, nil
}

func (l *memLocker) taken() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.names)
}

// memTokenCache is a TokenCache of one process: one token per tenant, minted under a mutex.
type memTokenCache struct {
	mu        sync.Mutex
	tokens    map[string]*debitura.Token
	forgotten []string
}

func (tc *memTokenCache) Token(ctx context.Context, id string, mint func(context.Context) (*debitura.Token, error)) (*debitura.Token, error) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if tok := tc.tokens[id]; tok != nil {
		return tok, nil
	}
	tok, err := mint(ctx)
	if err != nil {
		return nil, err
	}
	if tc.tokens == nil {
		tc.tokens = map[string]*debitura.Token{}
	}
	tc.tokens[id] = tok
	return tok, nil
}

func (tc *memTokenCache) Forget(_ context.Context, id string) error {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	delete(tc.tokens, id)
	tc.forgotten = append(tc.forgotten, id)
	return nil
}

// TestWithLinkLocker runs EnsureLinked for one tenant on two Clients (two replicas) at once,
// both past their first GET (404) before either takes the lock: with a shared Locker one POST
// /clients goes out, and a Locker that fails or a ctx that ends
// while waiting behave as WithLinkLocker documents.
func TestWithLinkLocker(t *testing.T) {
	tests := []struct {
		name     string
		locker   *memLocker
		timeout  time.Duration
		wantPost []int // statuses of POST /clients
		wantErr  error
	}{
		{name: "one POST across replicas", locker: newMemLocker(2, nil, false), wantPost: []int{202}},
		{name: "a failing lock is done without", locker: newMemLocker(2, errors.New("redis away"), false), wantPost: []int{202, 202}},
		{name: "ctx ends while waiting", locker: newMemLocker(2, nil, true), timeout: 50 * time.Millisecond, wantErr: context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := mockserver.NewTest(t)
			replicas := make([]*debitura.Client, 2)
			for i := range replicas {
				replicas[i] = newContractClient(t, mockserver.DefaultAPIKey, srv.URL, srv.Client(), debitura.WithLinkLocker(tt.locker))
			}
			ctx := t.Context()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			outs := make([]*debitura.LinkOutcome, len(replicas))
			errs := make([]error, len(replicas))
			var wg sync.WaitGroup
			for i, c := range replicas {
				wg.Go(func() { outs[i], errs[i] = c.Clients.EnsureLinked(ctx, createReq("tenant-1", "")) })
			}
			wg.Wait()
			if got := tt.locker.taken(); got != len(replicas) {
				t.Errorf("Lock called %d times, want %d", got, len(replicas))
			}
			for i, err := range errs {
				if tt.wantErr != nil {
					if !errors.Is(err, tt.wantErr) {
						t.Errorf("replica %d: EnsureLinked error = %v, want %v", i, err, tt.wantErr)
					}
					continue
				}
				if err != nil {
					t.Fatalf("replica %d: EnsureLinked: %v", i, err)
				}
				if outs[i].State != debitura.LinkOnboardingRequired || outs[i].OnboardingURL == "" {
					t.Errorf("replica %d: outcome %+v, want onboarding required with a URL", i, outs[i])
				}
			}
			if tt.wantErr == nil && outs[0].OnboardingURL != outs[1].OnboardingURL {
				t.Errorf("replicas got different onboarding URLs: %q and %q", outs[0].OnboardingURL, outs[1].OnboardingURL)
			}
			if diff := cmp.Diff(tt.wantPost, statuses(srv, mockserver.OpPostClients)); diff != "" {
				t.Errorf("POST /clients statuses (-want +got):\n%s", diff)
			}
		})
	}
}

// TestWithTokenCache shares one TokenCache between two Clients: the tenant's token is minted
// once for both, and a refused token (Invalidate) is forgotten in the cache too.
func TestWithTokenCache(t *testing.T) {
	srv := mockserver.NewTest(t)
	tc := &memTokenCache{}
	replicas := make([]*debitura.Client, 2)
	for i := range replicas {
		replicas[i] = newContractClient(t, mockserver.DefaultAPIKey, srv.URL, srv.Client(), debitura.WithTokenCache(tc))
	}
	ctx := t.Context()
	if _, err := replicas[0].Clients.Create(ctx, createReq("tenant-1", "")); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if err := srv.CompleteOnboarding(mockserver.DefaultAPIKey, "tenant-1"); err != nil {
		t.Fatalf("CompleteOnboarding: %v", err)
	}
	var got []*debitura.Token
	for _, c := range replicas {
		tok, err := c.Tokens.Source("tenant-1").Token(ctx)
		if err != nil {
			t.Fatalf("Token: %v", err)
		}
		got = append(got, tok)
	}
	if got[0] != got[1] {
		t.Errorf("the replicas hold different tokens; want the cache's one")
	}
	if n := len(srv.Requests(mockserver.OpToken)); n != 1 {
		t.Errorf("POST /oauth/token sent %d times, want 1", n)
	}

	replicas[1].Tokens.Source("tenant-1").Invalidate()
	if diff := cmp.Diff([]string{"tenant-1"}, tc.forgotten); diff != "" {
		t.Errorf("forgotten in the cache (-want +got):\n%s", diff)
	}
	if _, err := replicas[1].Tokens.Source("tenant-1").Token(ctx); err != nil {
		t.Fatalf("Token after Invalidate: %v", err)
	}
	if n := len(srv.Requests(mockserver.OpToken)); n != 2 {
		t.Errorf("POST /oauth/token sent %d times after Invalidate, want 2", n)
	}
}

package debitura

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// listServer serves GET /clients over a list of ids, page by page, as the API does.
type listServer struct {
	mu       sync.Mutex
	ids      []string
	requests int
	pages    []string // Page parameter of each request
	sizes    []string // PageSize parameter of each request
	sorts    []string // Sort parameter of each request
	// before runs before each request is answered (to grow the list, or fail).
	before func(n int, w http.ResponseWriter) bool
	// ignorePage answers page 1 whatever was asked.
	ignorePage bool
}

func (s *listServer) handler(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	s.pages = append(s.pages, r.URL.Query().Get("Page"))
	s.sizes = append(s.sizes, r.URL.Query().Get("PageSize"))
	s.sorts = append(s.sorts, r.URL.Query().Get("Sort"))
	if s.before != nil && !s.before(s.requests, w) {
		return
	}
	page, _ := strconv.Atoi(r.URL.Query().Get("Page"))
	size, _ := strconv.Atoi(r.URL.Query().Get("PageSize"))
	if page < 1 || s.ignorePage {
		page = 1
	}
	if size < 1 {
		size = 50
	}
	total := len(s.ids)
	var items []map[string]any
	for i := (page - 1) * size; i < page*size && i < total; i++ {
		items = append(items, map[string]any{"externalTenantId": s.ids[i], "onboardingDone": true, "isAttributedClient": true, "kycStatus": "Verified"})
	}
	pages := (total + size - 1) / size
	body, _ := json.Marshal(map[string]any{
		"page":    map[string]any{"totalResults": total, "pageSize": size, "currentPage": page, "responseCount": len(items), "totalPages": pages},
		"summary": map[string]any{"totalClients": total, "attributedClients": total, "onboardingComplete": total, "onboardingPending": 0, "totalCases": 0},
		"clients": items,
	})
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

// serveList returns a Client whose server answers GET /clients with ls.
func serveList(t *testing.T, ls *listServer) *Client {
	t.Helper()
	c, h := setup(t)
	h.mux.HandleFunc("GET /clients", ls.handler)
	return c
}

func ids(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%03d", prefix, i)
	}
	return out
}

func collect(t *testing.T, seq func(func(*LinkedClient, error) bool)) ([]string, []error) {
	t.Helper()
	var got []string
	var errs []error
	for c, err := range seq {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		got = append(got, c.ExternalTenantID)
	}
	return got, errs
}

func TestClientsAllWalksEveryPage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		n         int
		opts      *ClientListOptions
		wantPages []string
		wantSize  string
	}{
		{"three pages of 100", 230, nil, []string{"1", "2", "3"}, "100"},
		{"exact multiple", 200, &ClientListOptions{}, []string{"1", "2"}, "100"},
		{"empty list", 0, nil, []string{"1"}, "100"},
		{"caller page size", 7, &ClientListOptions{PageSize: 3, OnboardingDone: Ptr(true)}, []string{"1", "2", "3"}, "3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ls := &listServer{ids: ids("t", tc.n)}
			c := serveList(t, ls)
			var before ClientListOptions
			if tc.opts != nil {
				before = *tc.opts
			}
			seq := c.Clients.All(t.Context(), tc.opts)
			if ls.requests != 0 {
				t.Fatalf("Clients.All sent %d requests before it was ranged over, want 0", ls.requests)
			}
			got, errs := collect(t, seq)
			if len(errs) != 0 {
				t.Fatalf("Clients.All errors: %v", errs)
			}
			if diff := cmp.Diff(ls.ids, got, cmp.Comparer(func(a, b []string) bool { return len(a) == 0 && len(b) == 0 || cmp.Equal(a, b) })); diff != "" {
				t.Errorf("Clients.All ids mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantPages, ls.pages); diff != "" {
				t.Errorf("Page parameters mismatch (-want +got):\n%s", diff)
			}
			for _, s := range ls.sizes {
				if s != tc.wantSize {
					t.Errorf("PageSize = %q, want %q", s, tc.wantSize)
				}
			}
			if tc.opts != nil && !cmp.Equal(before, *tc.opts) {
				t.Errorf("Clients.All changed the caller's options: %+v, was %+v", *tc.opts, before)
			}
		})
	}
}

func TestClientsAllStopsAfterFirstError(t *testing.T) {
	t.Parallel()
	ls := &listServer{ids: ids("t", 250), before: func(n int, w http.ResponseWriter) bool {
		if n == 2 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"Invalid page","message":"Invalid page","businessErrors":null}`))
			return false
		}
		return true
	}}
	c := serveList(t, ls)
	got, errs := collect(t, c.Clients.All(t.Context(), nil))
	if len(got) != 100 {
		t.Errorf("Clients.All yielded %d clients before the error, want 100", len(got))
	}
	if len(errs) != 1 || !errors.Is(errs[0], ErrValidation) {
		t.Errorf("Clients.All errors = %v, want exactly one matching ErrValidation", errs)
	}
	if ls.requests != 2 {
		t.Errorf("server got %d requests, want 2", ls.requests)
	}
}

func TestClientsAllBadOptionsYieldValidationError(t *testing.T) {
	t.Parallel()
	c, h := setup(t)
	h.refuseAll()
	_, errs := collect(t, c.Clients.All(t.Context(), &ClientListOptions{PageSize: 500}))
	var ve *ValidationError
	if len(errs) != 1 || !errors.As(errs[0], &ve) || ve.Field != "PageSize" {
		t.Errorf("Clients.All(PageSize 500) errors = %v, want one *ValidationError for PageSize", errs)
	}
}

func TestClientsAllEarlyBreak(t *testing.T) {
	t.Parallel()
	ls := &listServer{ids: ids("t", 250)}
	c := serveList(t, ls)
	n := 0
	for c, err := range c.Clients.All(t.Context(), nil) {
		if err != nil {
			t.Fatalf("Clients.All: %v", err)
		}
		_ = c
		n++
		if n == 5 {
			break
		}
	}
	if ls.requests != 1 {
		t.Errorf("server got %d requests after a break on the first page, want 1", ls.requests)
	}
}

// A list that grows on every request (new clients sort first, shifting every page) must not keep
// the walk going forever, and no client may be yielded twice.
func TestClientsAllTerminatesOnGrowingList(t *testing.T) {
	t.Parallel()
	ls := &listServer{ids: ids("old", 300)}
	ls.before = func(n int, _ http.ResponseWriter) bool {
		if n > 1 {
			ls.ids = append(ids(fmt.Sprintf("new%04d-", n), 100), ls.ids...) // a page of newcomers in front
		}
		return true
	}
	c := serveList(t, ls)
	got, errs := collect(t, c.Clients.All(t.Context(), nil))
	if len(errs) != 0 {
		t.Fatalf("Clients.All errors: %v", errs)
	}
	seen := map[string]bool{}
	for _, id := range got {
		if seen[id] {
			t.Errorf("client %q yielded twice", id)
		}
		seen[id] = true
	}
	// First page said 3 pages; the bound is 3 + margin.
	if max := 3 + pageMargin(3); ls.requests > max {
		t.Errorf("server got %d requests, want at most %d", ls.requests, max)
	}
}

// Clients linked during the walk must not push existing ones off the walk. All walks oldest
// first by default, so newcomers land at the end; with the API's default order (newest first)
// they land in front and shift every page, and a page of clients already seen must not end the
// walk. In both orders every client that existed before the walk is yielded.
func TestClientsAllYieldsEveryExistingClientWhileTheListGrows(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		sort     ClientSort
		wantSort string
	}{
		{"default order (oldest first)", "", string(SortDateCreatedAsc)},
		{"newest first", SortDateCreatedDesc, string(SortDateCreatedDesc)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ls := &listServer{ids: ids("old", 300)}
			ls.before = func(n int, _ http.ResponseWriter) bool {
				if n != 2 {
					return true
				}
				// A full page of newcomers between the first and second page: newest first,
				// page 2 then holds only clients already seen.
				newcomers := ids("new", 100)
				if ls.sorts[len(ls.sorts)-1] == string(SortDateCreatedDesc) {
					ls.ids = append(newcomers, ls.ids...) // newest first: in front
				} else {
					ls.ids = append(ls.ids, newcomers...) // oldest first: at the end
				}
				return true
			}
			c := serveList(t, ls)
			got, errs := collect(t, c.Clients.All(t.Context(), &ClientListOptions{Sort: tt.sort}))
			if len(errs) != 0 {
				t.Fatalf("Clients.All errors: %v", errs)
			}
			seen := map[string]bool{}
			for _, id := range got {
				seen[id] = true
			}
			var missed []string
			for _, id := range ids("old", 300) {
				if !seen[id] {
					missed = append(missed, id)
				}
			}
			if len(missed) > 0 {
				t.Errorf("%d existing clients never yielded, e.g. %v", len(missed), missed[:min(3, len(missed))])
			}
			if ls.sorts[0] != tt.wantSort {
				t.Errorf("Sort sent = %q, want %q", ls.sorts[0], tt.wantSort)
			}
		})
	}
}

// All copies the caller's options, pointer fields too: changing them during the walk changes
// nothing.
func TestClientsAllCopiesPointerOptions(t *testing.T) {
	t.Parallel()
	c, h := setup(t)
	ls := &listServer{ids: ids("t", 250)}
	var queries []string
	h.mux.HandleFunc("GET /clients", func(w http.ResponseWriter, r *http.Request) {
		queries = append(queries, r.URL.Query().Get("OnboardingDone"))
		ls.handler(w, r)
	})
	opts := &ClientListOptions{OnboardingDone: Ptr(true)}
	n := 0
	for _, err := range c.Clients.All(t.Context(), opts) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 1 {
			*opts.OnboardingDone = false
		}
	}
	if diff := cmp.Diff([]string{"true", "true", "true"}, queries); diff != "" {
		t.Errorf("OnboardingDone sent (-want +got):\n%s", diff)
	}
}

// A server that ignores Page (always the first page) ends the walk: a page without anything new.
func TestClientsAllTerminatesWhenServerIgnoresPage(t *testing.T) {
	t.Parallel()
	ls := &listServer{ids: ids("t", 250), ignorePage: true}
	c := serveList(t, ls)
	got, errs := collect(t, c.Clients.All(t.Context(), nil))
	if len(errs) != 0 || len(got) != 100 {
		t.Errorf("Clients.All = %d clients, errors %v; want the 100 of the first page", len(got), errs)
	}
	if ls.requests != 2 {
		t.Errorf("server got %d requests, want 2", ls.requests)
	}
}

func TestClientsAllCanceledContext(t *testing.T) {
	t.Parallel()
	ls := &listServer{ids: ids("t", 250)}
	c := serveList(t, ls)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	n := 0
	var gotErr error
	for _, err := range c.Clients.All(ctx, nil) {
		if err != nil {
			gotErr = err
			break
		}
		n++
		if n == 100 {
			cancel()
		}
	}
	if !errors.Is(gotErr, context.Canceled) {
		t.Errorf("Clients.All after cancel: err = %v, want context.Canceled", gotErr)
	}
	if ls.requests != 1 {
		t.Errorf("server got %d requests, want 1", ls.requests)
	}
}

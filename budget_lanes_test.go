package debitura_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/debitura-go/debitura"
	"github.com/debitura-go/debitura/mockserver"
)

// LinkMany runs in the bulk lane: it stops at the bulk share of a window (refusing the rest when
// the wait is longer than it may sit through), and leaves the reserve to interactive calls.
func TestLinkManyUsesTheBulkLane(t *testing.T) {
	t.Parallel()
	srv := mockserver.NewTest(t)
	l := debitura.DefaultLimits()
	l.PerMinute, l.BulkReserve = 5, 0.4 // the bulk lane: 3 per minute
	c := newContractClient(t, mockserver.DefaultAPIKey, srv.URL, srv.Client(),
		debitura.WithLimits(l), debitura.WithMaxRetryWait(10*time.Millisecond))
	var reqs []*debitura.ClientCreateRequest
	for i := range 5 {
		reqs = append(reqs, createReq(fmt.Sprintf("lane-%d", i), ""))
	}
	res, err := c.Clients.LinkMany(t.Context(), reqs, &debitura.LinkManyOptions{Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	linked, refused := 0, 0
	for _, r := range res {
		var apiErr *debitura.APIError
		switch {
		case r.Err == nil:
			linked++
		case errors.As(r.Err, &apiErr) && errors.Is(r.Err, debitura.ErrRateLimited) && apiErr.Attempts == 0:
			refused++
		default:
			t.Errorf("input %d: %v", r.Index, r.Err)
		}
	}
	if linked != 3 || refused != 2 || srv.Count(mockserver.OpPostClients) != 3 {
		t.Errorf("LinkMany linked %d and was refused %d (POST /clients %d); want 3, 2, 3", linked, refused, srv.Count(mockserver.OpPostClients))
	}
	// The reserve is left to interactive calls.
	for i := range 2 {
		if _, err := c.Clients.Create(t.Context(), createReq(fmt.Sprintf("live-%d", i), "")); err != nil {
			t.Errorf("interactive Create %d: %v", i, err)
		}
	}
}

package debitura_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/debitura-go/debitura"
	"github.com/debitura-go/debitura/mockserver"
)

// ExampleClientsService_LinkStream back-fills customers read one at a time (from a file or a
// database cursor in real code), handling each result as it settles. MaxWait lets the
// back-fill sit through Debitura's hourly and daily windows instead of failing the inputs.
func ExampleClientsService_LinkStream() {
	ctx := context.Background()
	srv := mockserver.New(mockserver.WithSeed(1))
	defer srv.Close()
	c, err := debitura.New(mockserver.DefaultAPIKey, debitura.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}

	customers := func(yield func(*debitura.ClientCreateRequest) bool) {
		for i := range 5 {
			if !yield(acme(fmt.Sprintf("tenant-%d", i))) {
				return
			}
		}
	}
	opts := &debitura.LinkStreamOptions{MaxWait: 25 * time.Hour, Total: 5, Progress: func(p debitura.LinkProgress) {
		if p.WaitStarted {
			log.Printf("waiting for a rate-limit window until %s", p.WaitUntil.Format(time.TimeOnly))
		}
	}}
	linked := 0
	for r, err := range c.Clients.LinkStream(ctx, customers, opts) {
		if err != nil { // ctx ended or the options were invalid
			log.Fatal(err)
		}
		if r.Err != nil {
			log.Printf("input %d (%s): %v", r.Index, r.ExternalTenantID, r.Err)
			continue
		}
		linked++ // r.Outcome.State says what to do next, as for EnsureLinked
	}
	fmt.Println(linked, "linked")
	// Output:
	// 5 linked
}

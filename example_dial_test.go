package debitura_test

import (
	"context"
	"testing"

	"github.com/debitura-go/debitura/mockserver"
)

// A test that drives a debitura-mock binary (started by the CI job, for example in a container)
// through mockserver.Dial. It is compiled, not run: it needs the binary on 127.0.0.1:8080.
func Example_dialTheBinary() {
	var _ = func(ctx context.Context, t testing.TB) {
		ctl, err := mockserver.Dial(ctx, "http://127.0.0.1:8080") // checks /__mock/health
		if err != nil {
			t.Fatal(err)
		}
		// ... the code under test gets a 409 ClientExistsNeedsLinking for tenant-42 ...
		if err := ctl.ApprovePendingLink("mock_local_key", "tenant-42"); err != nil { // no URL parsing
			t.Fatal(err)
		}
		if _, err := ctl.AddFault(mockserver.Fault{Operation: mockserver.OpPostClients, Status: 503, Times: 1}); err != nil {
			t.Fatal(err)
		}
	}
}

package mockserver

import (
	"net/http"
	"runtime/debug"
	"sync"
)

// HealthPath answers GET (and HEAD) with 200 {"status":"ok","version":"..."} for readiness and
// liveness checks (docker compose healthcheck, a Kubernetes readinessProbe).
//
// It needs no key and is exempt from the admin guard's Host check and from the Production
// environment's 403 on /__mock/: a probe sends the pod's IP or the service name as Host, and the
// route reads nothing and changes nothing. Other methods answer 405 with Allow.
const HealthPath = "/__mock/health"

// Health is the body of GET /__mock/health.
type Health struct {
	Status  string `json:"status"`  // always "ok"
	Version string `json:"version"` // the module version of the mock ("(devel)" in a source build)
}

// moduleVersion is the version of the module this package was built from, as the Go tool
// recorded it (the tag for `go install ...@v1.2.3`).
var moduleVersion = sync.OnceValue(func() string {
	const mod = "github.com/debitura-go/debitura"
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(devel)"
	}
	if bi.Main.Path == mod && bi.Main.Version != "" {
		return bi.Main.Version
	}
	for _, d := range bi.Deps {
		if d.Path == mod && d.Version != "" {
			return d.Version
		}
	}
	return "(devel)"
})

func serveHealth(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, Health{Status: "ok", Version: moduleVersion()})
}

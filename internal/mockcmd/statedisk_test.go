package mockcmd

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/debitura-go/debitura/mockserver"
)

// A save killed between creating its temporary file and the rename leaves the file behind, with
// API keys and the token secret in it. The next start removes it, and nothing else.
func TestRunRemovesStaleTempFiles(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "mock-state.json")
	stale := []string{".mock-state.json.tmp-1234567", ".mock-state.json.tmp-0"}
	foreign := []string{
		".mock-state.json.tmp-abc",    // not a number: not what os.CreateTemp makes
		".mock-state.json.tmp-",       // no random part
		"mock-state.json.tmp-123",     // no leading dot
		".other.json.tmp-123",         // another file's temporary
		".mock-state.json.bak",        // someone's backup
		"notes.txt",                   // anything else
		".mock-state.json.tmp-12.old", // a suffix after the number
	}
	for _, name := range append(append([]string{}, stale...), foreign...) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(`{"secret":"x"}`), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// A directory of our naming is not a file we wrote: left alone.
	if err := os.Mkdir(filepath.Join(dir, ".mock-state.json.tmp-42"), 0o700); err != nil {
		t.Fatal(err)
	}
	foreign = append(foreign, ".mock-state.json.tmp-42")

	_, stderr, stop := startRun(t, "-state", state, "-save-interval", "0")
	for _, name := range stale {
		if _, err := os.Lstat(filepath.Join(dir, name)); !os.IsNotExist(err) {
			t.Errorf("stale %s survived the start (%v)", name, err)
		}
		if !strings.Contains(stderr.String(), "removed "+name) {
			t.Errorf("stderr does not report removing %s:\n%s", name, stderr.String())
		}
	}
	for _, name := range foreign {
		if _, err := os.Lstat(filepath.Join(dir, name)); err != nil {
			t.Errorf("foreign %s was touched: %v", name, err)
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// The state file holds API keys and the token secret: it is written 0600, also when it replaces
// a file with wider permissions, and the save leaves no temporary file behind.
func TestStateFilePermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix permission bits")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "s.json")
	if err := os.WriteFile(path, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil { // whatever the umask
		t.Fatal(err)
	}
	clock := mockserver.NewOffsetClock()
	s := &stateFile{path: path, backend: mockserver.NewBackend(mockserver.WithClock(clock)), clock: clock}
	if err := s.save(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("state file mode %v, want 0600", perm)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries after a save, want only the state file", len(entries))
	}
}

func TestIsStaleTemp(t *testing.T) {
	const path = "/var/lib/mock/s.json"
	tests := []struct {
		name string
		want bool
	}{
		{".s.json.tmp-1", true},
		{".s.json.tmp-4294967295", true},
		{".s.json.tmp-", false},
		{".s.json.tmp-1a", false},
		{"s.json.tmp-1", false},
		{".s.json", false},
		{".t.json.tmp-1", false},
	}
	for _, tt := range tests {
		if got := isStaleTemp(path, tt.name); got != tt.want {
			t.Errorf("isStaleTemp(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// A save tick with nothing changed takes no snapshot (so it neither takes the Backend's lock for
// a copy nor encodes anything); reads do not count as changes, writes do.
func TestStateFileSkipsUnchangedState(t *testing.T) {
	clock := mockserver.NewOffsetClock()
	b := mockserver.NewBackend(mockserver.WithClock(clock))
	t.Cleanup(b.Close)
	path := filepath.Join(t.TempDir(), "s.json")
	s := &stateFile{path: path, backend: b, clock: clock}
	serve := func(method, target, body string) int {
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		r := httptest.NewRequest(method, target, rd)
		r.Header.Set("XApiKey", mockserver.DefaultAPIKey)
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		b.ServeHTTP(w, r)
		return w.Code
	}
	if err := s.save(); err != nil {
		t.Fatal(err)
	}
	if s.snapshots != 1 {
		t.Fatalf("first save took %d snapshots, want 1", s.snapshots)
	}
	for range 3 {
		serve("GET", "/me", "")
		serve("GET", "/clients", "")
		if err := s.save(); err != nil {
			t.Fatal(err)
		}
	}
	if s.snapshots != 1 {
		t.Errorf("%d snapshots after ticks with only reads, want still 1", s.snapshots)
	}
	if st := serve("POST", "/clients", `{"externalTenantId":"t-saved","client":{"name":"Saved ApS","country":"DK","supportEmail":"s@saved.example"},"users":[{"name":"Ada Lovelace","email":"s@saved.example"}]}`); st != http.StatusAccepted {
		t.Fatalf("POST /clients: %d", st)
	}
	if err := s.save(); err != nil {
		t.Fatal(err)
	}
	if s.snapshots != 2 {
		t.Errorf("%d snapshots after a write, want 2", s.snapshots)
	}
	if data, _ := os.ReadFile(path); !strings.Contains(string(data), "t-saved") {
		t.Error("the state file lacks the client created before the save")
	}
}

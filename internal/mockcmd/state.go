package mockcmd

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/debitura-go/debitura/mockserver"
)

// stateFormat names the layout of the -state file.
const stateFormat = "debitura-mock-state/1"

// stateDoc is the -state file: the Backend's Snapshot plus the clock offset (so that link-request
// TTLs and token lifetimes moved with /__mock/clock/advance survive a restart).
type stateDoc struct {
	Format        string          `json:"format"`
	SavedAt       time.Time       `json:"savedAt"`
	ClockOffsetNs int64           `json:"clockOffsetNs"`
	Snapshot      json.RawMessage `json:"snapshot"`
}

// stateFile loads and saves a Backend's state. save is safe for concurrent use.
type stateFile struct {
	path    string
	backend *mockserver.Backend
	clock   *mockserver.OffsetClock

	mu         sync.Mutex
	saved      bool   // lastGen and lastOffset describe the file
	lastGen    uint64 // backend.Generation() when the last snapshot was taken
	lastSnap   []byte
	lastOffset time.Duration
	snapshots  int // snapshots taken; a test counts them
}

// load restores the state from the file. A missing file is not an error (loaded is false); an
// empty, unreadable or corrupt one is. The file may also be a bare Backend.Snapshot.
func (s *stateFile) load() (loaded bool, err error) {
	data, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read state file: %w", err)
	}
	fail := func(why error) (bool, error) {
		return false, fmt.Errorf("state file %s is not usable (%w); fix or remove it to start empty", s.path, why)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return fail(errors.New("it is empty"))
	}
	var probe struct {
		Format json.RawMessage `json:"format"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return fail(err)
	}
	var doc stateDoc
	snap := data // a bare Backend.Snapshot has a numeric format
	if len(probe.Format) > 0 && probe.Format[0] == '"' {
		if err := json.Unmarshal(data, &doc); err != nil {
			return fail(err)
		}
		if doc.Format != stateFormat {
			return fail(fmt.Errorf("unknown format %q, want %q", doc.Format, stateFormat))
		}
		snap = doc.Snapshot
	}
	if err := s.backend.Restore(snap); err != nil {
		return fail(err)
	}
	if off := time.Duration(doc.ClockOffsetNs) - s.clock.Offset(); off != 0 {
		s.clock.Advance(off)
	}
	return true, nil
}

// save writes the state when it changed since the last save: to a temporary file in the same
// directory, synced, renamed over the file, and the directory synced. The file holds API keys
// and the token-signing secret, so it is created 0600.
//
// "Changed" is decided without touching the state first: when the Backend's Generation and the
// clock offset are those of the last save, nothing is snapshotted at all, so an idle or read-only
// mock costs nothing per tick. Otherwise the Backend copies its state under its lock and encodes
// it outside (Backend.Snapshot), and an unchanged encoding is still not written again.
func (s *stateFile) save() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	gen, off := s.backend.Generation(), s.clock.Offset()
	if s.saved && gen == s.lastGen && off == s.lastOffset {
		return nil
	}
	// gen is read before the snapshot: a change racing with it makes the next tick look again.
	snap, err := s.backend.Snapshot()
	if err != nil {
		return err
	}
	s.snapshots++
	if s.lastSnap != nil && off == s.lastOffset && bytes.Equal(snap, s.lastSnap) {
		s.saved, s.lastGen = true, gen
		return nil
	}
	data, err := json.Marshal(stateDoc{Format: stateFormat, SavedAt: time.Now().UTC(), ClockOffsetNs: int64(off), Snapshot: snap})
	if err != nil {
		return err
	}
	if err := writeFileAtomic(s.path, data); err != nil {
		return err
	}
	s.lastSnap, s.lastOffset = snap, off
	s.saved, s.lastGen = true, gen
	return nil
}

// writeFileAtomic replaces path with data so that a crash at any point leaves either the old or
// the new file.
func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, tempPrefix(path)+"*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(0o600); err != nil {
		return err
	}
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// tempPrefix is how the temporary files of writeFileAtomic for path start: a dot, the state
// file's name and ".tmp-" (os.CreateTemp then adds a random decimal number), so that
// removeStaleTemps can tell them from every other file in the directory.
func tempPrefix(path string) string { return "." + filepath.Base(path) + ".tmp-" }

// isStaleTemp reports whether name (a directory entry next to path) is one of our temporary
// files: tempPrefix followed by the decimal digits os.CreateTemp puts in place of "*".
func isStaleTemp(path, name string) bool {
	rest, ok := strings.CutPrefix(name, tempPrefix(path))
	if !ok || rest == "" {
		return false
	}
	for _, c := range rest {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// removeStaleTemps deletes the temporary files a save killed between create and rename (kill -9,
// power loss) left next to path: they hold API keys and the token secret, and nothing else would
// ever remove them. Only regular files named exactly as writeFileAtomic names them are touched.
// Call it at start, before any save of this process can be in flight. It returns the names it
// removed.
func removeStaleTemps(path string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var removed []string
	var errs []error
	for _, e := range entries {
		if !e.Type().IsRegular() || !isStaleTemp(path, e.Name()) {
			continue
		}
		if err := os.Remove(filepath.Join(filepath.Dir(path), e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, e.Name())
	}
	return removed, errors.Join(errs...)
}

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// Result states of the output file.
const (
	stateReady              = "ready"
	stateOnboardingRequired = "onboarding_required"
	stateApprovalRequired   = "approval_required"
	stateFailed             = "failed"
)

// resultLine is one line of the --out file: the settled result of one input row.
type resultLine struct {
	Line             int          `json:"line"`
	ExternalTenantID string       `json:"externalTenantId"`
	State            string       `json:"state"`
	URL              string       `json:"url,omitempty"`
	Error            *resultError `json:"error,omitempty"`
}

// resultError describes a failed row: the API's error type, the HTTP status and the message.
type resultError struct {
	Type    string `json:"type"`
	Status  int    `json:"status,omitempty"`
	Message string `json:"message"`
}

// settledSet is what an existing --out file says is done: input line -> a hash of its tenant id.
// It holds a line number and a hash per settled row (no row data), so that resuming a
// 100,000-row back-fill does not hold its rows.
type settledSet map[int]uint64

func tenantHash(id string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return h.Sum64()
}

// outFile is the --out file, opened for appending settled results one line at a time.
type outFile struct {
	f *os.File
	// Repaired is the number of bytes of a torn last line that were cut off when it was opened.
	Repaired int64
}

// openOut opens (or creates) the results file for resuming: it reads the settled rows, cuts off
// a torn last line (one without its "\n", or that is not a result: what a kill during a write
// leaves) and positions the file at its end. Any other line that is not a result is an error: the
// file is not one this tool wrote, and it is left as it is.
func openOut(path string) (*outFile, settledSet, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, nil, err
	}
	settled, good, err := scanResults(f, path)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	end, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	o := &outFile{f: f}
	if end > good {
		if err := f.Truncate(good); err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("repair the torn last line of %s: %w", path, err)
		}
		o.Repaired = end - good
	}
	if _, err := f.Seek(good, io.SeekStart); err != nil {
		f.Close()
		return nil, nil, err
	}
	return o, settled, nil
}

// scanResults reads the results in f and returns them and the offset just after the last good
// line.
func scanResults(f *os.File, path string) (settledSet, int64, error) {
	settled := settledSet{}
	br := bufio.NewReaderSize(f, 64<<10)
	var off int64
	for n := 1; ; n++ {
		raw, err := br.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, 0, err
		}
		if errors.Is(err, io.EOF) {
			// Either the end, or a last line without its "\n": torn whatever it holds. Cut it;
			// its row runs again.
			return settled, off, nil
		}
		var res resultLine
		if json.Unmarshal(raw, &res) != nil || res.Line <= 0 || !validState(res.State) {
			if isLastLine(br) {
				return settled, off, nil // a torn line that happens to end in "\n"
			}
			return nil, 0, fmt.Errorf("%s line %d is not a result of debitura link; refusing to resume into it (use another --out)", path, n)
		}
		if h, dup := settled[res.Line]; dup && h != tenantHash(res.ExternalTenantID) {
			return nil, 0, fmt.Errorf("%s settles input line %d twice with different tenants: it mixes two inputs (use another --out)", path, res.Line)
		}
		settled[res.Line] = tenantHash(res.ExternalTenantID)
		off += int64(len(raw))
	}
}

// isLastLine reports whether nothing but blanks follows in br.
func isLastLine(br *bufio.Reader) bool {
	rest, _ := io.ReadAll(io.LimitReader(br, 1<<16))
	return len(bytes.TrimSpace(rest)) == 0
}

func validState(s string) bool {
	switch s {
	case stateReady, stateOnboardingRequired, stateApprovalRequired, stateFailed:
		return true
	}
	return false
}

// write appends one result as one line with one write call, so that a kill leaves at most one
// torn last line, which the next run cuts off.
func (o *outFile) write(r resultLine) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = o.f.Write(append(b, '\n'))
	return err
}

// close syncs and closes the file.
func (o *outFile) close() error {
	return errors.Join(o.f.Sync(), o.f.Close())
}

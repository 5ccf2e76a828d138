// Package syncbuf provides a byte buffer safe for concurrent use: for tests that collect what a
// logger, a process or a browser writes from other goroutines while the test reads it.
package syncbuf

import (
	"bytes"
	"sync"
)

// Buffer is a bytes.Buffer guarded by a mutex. The zero value is an empty buffer without a
// limit, ready to use. It is safe for concurrent use.
type Buffer struct {
	// Limit, when positive, is the most bytes the buffer keeps: a write that would go past it is
	// dropped (and still reported written, so that the writer carries on).
	Limit int

	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p, unless that would exceed Limit.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.Limit > 0 && b.buf.Len()+len(p) > b.Limit {
		return len(p), nil
	}
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

package mockserver

import (
	"sync"
	"sync/atomic"
)

// stateMutex is Backend.mu: the lock over the store, with a generation counter that moves at
// every Unlock, so that a saver can tell "nothing changed" without encoding the store. Counting
// every critical section as a change is the safe default (a missed change would be a lost save);
// the hot read-only sections (every request's key lookup, GET /me, the GET handlers, Snapshot
// itself) end with unlockUnchanged instead, so a mock that only answers reads is not saved again.
type stateMutex struct {
	sync.Mutex
	gen atomic.Uint64
}

// Unlock counts a possible change and releases the lock.
func (m *stateMutex) Unlock() {
	m.gen.Add(1)
	m.Mutex.Unlock()
}

// unlockUnchanged releases the lock after a critical section that changed nothing a Snapshot
// contains (caches of unexported fields do not count).
func (m *stateMutex) unlockUnchanged() { m.Mutex.Unlock() }

// Generation reports a number that grows whenever the state [Backend.Snapshot] returns may have
// changed: an API call or control method that writes, a Reset, a Restore. Two equal readings mean
// the state is unchanged in between (reads, the journal, faults and rate-limit counters do not
// move it). The debitura-mock binary saves its -state file only when it moved.
func (b *Backend) Generation() uint64 { return b.mu.gen.Load() }

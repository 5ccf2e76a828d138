package webhook

import (
	"container/list"
	"context"
	"sync"
	"time"
)

// Claim is the answer of [Deduper.Claim].
type Claim int

const (
	// Claimed: the id is new, and the caller now holds it: it must process the event and then
	// call Complete, or Release if processing failed.
	Claimed Claim = iota
	// InFlight: another delivery of the id is being processed right now.
	InFlight
	// Done: the id was processed successfully before.
	Done
)

// Deduper remembers which event ids were processed, so that a redelivered event is handled
// once. Implementations must be safe for concurrent use, and Claim must be atomic: of concurrent
// Claims of one id, one gets Claimed.
//
// [MemoryDeduper] keeps ids in memory, which suits one process. With several replicas,
// implement it over shared storage; with Redis, for example: Claim is
// SET key "inflight" NX EX <lease> (Claimed when it was set, otherwise Done or InFlight by the
// stored value), Complete is SET key "done" EX <retention>, Release is DEL key. The lease should
// outlast the handler's longest run, so that a process that dies mid-event does not block the id
// forever.
type Deduper interface {
	// Claim reports whether id is new (and then claims it), in flight, or done.
	Claim(ctx context.Context, id string) (Claim, error)
	// Complete marks a claimed id as processed.
	Complete(ctx context.Context, id string) error
	// Release drops the claim of an id whose processing failed, so a redelivery is processed.
	Release(ctx context.Context, id string) error
}

// Defaults of NewMemoryDeduper.
const (
	DefaultDedupeSize = 10000
	DefaultDedupeTTL  = 72 * time.Hour
)

// MemoryDeduper is an in-memory [Deduper]: it remembers up to a fixed number of processed ids,
// each for a fixed time, forgetting the oldest first. It is safe for concurrent use. The zero
// value is not usable; call [NewMemoryDeduper].
type MemoryDeduper struct {
	max int
	ttl time.Duration
	now func() time.Time // tests

	mu       sync.Mutex
	inflight map[string]struct{}
	done     map[string]*list.Element // values are doneID
	order    *list.List               // doneID, oldest first
}

type doneID struct {
	id string
	at time.Time
}

// NewMemoryDeduper returns a deduper that remembers the last size processed ids for ttl each.
// Zero or negative values mean DefaultDedupeSize and DefaultDedupeTTL; the TTL should outlast
// Debitura's retries of a delivery (8 attempts with exponential backoff).
func NewMemoryDeduper(size int, ttl time.Duration) *MemoryDeduper {
	if size <= 0 {
		size = DefaultDedupeSize
	}
	if ttl <= 0 {
		ttl = DefaultDedupeTTL
	}
	return &MemoryDeduper{max: size, ttl: ttl, inflight: map[string]struct{}{}, done: map[string]*list.Element{}, order: list.New()}
}

func (d *MemoryDeduper) clock() time.Time {
	if d.now != nil {
		return d.now()
	}
	return time.Now()
}

// Claim implements Deduper.
func (d *MemoryDeduper) Claim(_ context.Context, id string) (Claim, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.expire(d.clock())
	if _, ok := d.done[id]; ok {
		return Done, nil
	}
	if _, ok := d.inflight[id]; ok {
		return InFlight, nil
	}
	d.inflight[id] = struct{}{}
	return Claimed, nil
}

// Complete implements Deduper.
func (d *MemoryDeduper) Complete(_ context.Context, id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.inflight, id)
	now := d.clock()
	if el, ok := d.done[id]; ok {
		d.order.Remove(el)
	}
	d.done[id] = d.order.PushBack(doneID{id: id, at: now})
	for d.order.Len() > d.max {
		d.drop(d.order.Front())
	}
	d.expire(now)
	return nil
}

// Release implements Deduper.
func (d *MemoryDeduper) Release(_ context.Context, id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.inflight, id)
	return nil
}

// Len returns how many processed ids the deduper remembers.
func (d *MemoryDeduper) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.order.Len()
}

func (d *MemoryDeduper) expire(now time.Time) {
	for el := d.order.Front(); el != nil && now.Sub(el.Value.(doneID).at) >= d.ttl; el = d.order.Front() {
		d.drop(el)
	}
}

func (d *MemoryDeduper) drop(el *list.Element) {
	delete(d.done, el.Value.(doneID).id)
	d.order.Remove(el)
}

package mockserver

import "fmt"

// RedeliverWebhook sends the event of an earlier delivery (eventId and subscriptionId of
// [DeliveryInfo]) to its subscription again, as a new delivery with the same payload and event
// id and a fresh attempt count, due now. It fails with [ErrNotFound] when there is no such
// delivery and [ErrConflict] when the subscription is disabled or deleted, or the delivery is
// still pending.
func (b *Backend) RedeliverWebhook(eventID, subscriptionID string) error {
	b.mu.Lock()
	h := b.st.Webhooks[subscriptionID]
	active := h != nil && h.IsActive
	b.mu.unlockUnchanged()
	q := b.wh
	q.mu.Lock()
	var src *whJob
	for _, j := range q.jobs {
		if j.eventID == eventID && j.subID == subscriptionID {
			src = j
		}
	}
	pending := src != nil && src.state == DeliveryPending
	q.mu.Unlock()
	switch {
	case src == nil:
		return fmt.Errorf("%w: no delivery of event %q to subscription %q", ErrNotFound, eventID, subscriptionID)
	case pending:
		return fmt.Errorf("%w: the delivery is still pending", ErrConflict)
	case !active:
		return fmt.Errorf("%w: the subscription is disabled or deleted", ErrConflict)
	}
	now := b.now()
	q.enqueue(&whJob{
		eventID: src.eventID, event: src.event, subID: src.subID, partnerID: src.partnerID, test: src.test,
		body: src.body, created: now, due: now,
	})
	q.kick(b)
	return nil
}

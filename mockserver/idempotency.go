package mockserver

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"time"
)

// Idempotency-Key handling (kyc-verification and rotate-token). Keys are scoped per partner and
// operation; the fingerprint of a request is its path plus its canonical JSON body. The first
// terminal response is stored (every status except 400 field-validation errors and 5xx) and a
// repeat with the same key and fingerprint gets it back verbatim with no second side effect; the
// same key with another fingerprint is a 422 ApiErrorResponseDto whose businessErrors[0].type is
// "IdempotencyConflict". A stored answer is replayed for IdempotencyTTL on the mock clock, and
// each partner keeps at most IdempotencyKeysPerPartner of them (oldest dropped first).

const maxIdempotencyKey = 255

// IdempotencyTTL is how long a stored answer is replayed for its Idempotency-Key, measured on
// the mock clock (Debitura's legacy docs said 24 hours). After it, the same key is a new request:
// it runs again, and may carry another body. Expired records leave the state when newer ones of
// the same partner are stored, and are never written into a Snapshot.
const IdempotencyTTL = 24 * time.Hour

// IdempotencyKeysPerPartner caps the stored answers per partner (every stored status counts,
// 404s for clients that do not exist too). Storing one more drops the partner's oldest, whose key
// then acts as new. It bounds the memory and the -state file a client that sends a fresh key on
// every call can make the mock keep.
const IdempotencyKeysPerPartner = 10000

// idempotentLocked runs handle under the request's Idempotency-Key, if any, and stores or replays
// its answer. A bad key, a replay or a conflict is answered without running handle.
func (b *Backend) idempotentLocked(w http.ResponseWriter, r *http.Request, ce *call, raw []byte, handle func(http.ResponseWriter)) {
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		handle(w)
		return
	}
	if len(key) > maxIdempotencyKey {
		writeValidation(w, []string{"The Idempotency-Key header must be at most 255 characters."})
		return
	}
	sum := sha256.Sum256([]byte(r.URL.Path + "\n" + canonicalJSON(raw)))
	fp := hex.EncodeToString(sum[:])
	scope := ce.partner.ID + "|" + ce.op + "|" + key
	now := b.now()
	if rec := b.st.Idempotency[scope]; rec != nil && !rec.expired(now) {
		if rec.BodyHash != fp {
			writeAPIError(w, http.StatusUnprocessableEntity, "IdempotencyConflict",
				"The Idempotency-Key has already been used with a different request.")
			return
		}
		w.Header().Set("Idempotent-Replayed", "true")
		ce.effect(EffectIdempotentReplay)
		writeRaw(w, rec.Status, rec.ContentType, rec.Body)
		return
	}
	rr := httptest.NewRecorder()
	handle(rr)
	if rr.Code != http.StatusBadRequest && rr.Code < 500 {
		b.st.putIdempotency(&idemRec{Scope: scope, PartnerID: ce.partner.ID, Created: now, BodyHash: fp, Status: rr.Code,
			ContentType: rr.Header().Get("Content-Type"), Body: rr.Body.Bytes()}, now, b.idemLimit)
	}
	for k, v := range rr.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rr.Code)
	_, _ = w.Write(rr.Body.Bytes())
}

// expired reports whether the record's answer is no longer replayed at now. A clock moved back
// before Created does not expire it.
func (r *idemRec) expired(now time.Time) bool { return now.Sub(r.Created) >= IdempotencyTTL }

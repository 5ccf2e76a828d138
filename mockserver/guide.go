package mockserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
)

// The guide operations of guide-extension.openapi.yaml: PATCH (metadata), profile, suspend,
// reactivate. rotate-token lives in tokens.go.

const (
	maxMetadataKeys  = 50
	maxMetadataKey   = 40
	maxMetadataBytes = 16 * 1024
)

func (b *Backend) profileWireLocked(l *linkRec) wireProfile {
	status := "active"
	switch {
	case l.Suspended:
		status = "suspended"
	case !b.st.onboardingDone(l.cred):
		status = "pending_onboarding"
	}
	md := map[string]any{}
	for k, v := range l.Metadata {
		md[k] = v
	}
	return wireProfile{
		ExternalTenantID: l.ExternalTenantID, Status: status, SupportEmail: nz(l.cred.SupportEmail),
		SupportPhone: nz(l.cred.SupportPhone), Metadata: md, UpdatedAt: ts(l.UpdatedAt), SuspendedAt: tsp(l.SuspendedAt),
	}
}

func (b *Backend) getProfile(w http.ResponseWriter, r *http.Request, ce *call) {
	l := b.lockActiveLink(w, r, ce, msgNoActiveLink)
	if l == nil {
		return
	}
	defer b.mu.unlockUnchanged()
	writeJSON(w, http.StatusOK, b.profileWireLocked(l))
}

// patchClient merges contact details and metadata. supportEmail: a value replaces it (and the
// creditor is matched on the new e-mail from then on), null leaves it unchanged because a client
// always has one. supportPhone: null clears it. metadata: a key set to null is removed.
func (b *Backend) patchClient(w http.ResponseWriter, r *http.Request, ce *call) {
	var members map[string]json.RawMessage
	if _, ok := b.readRequest(w, r, &members, "UpdateClientRequest"); !ok {
		return
	}
	var email, phone, meta json.RawMessage
	for k, v := range members {
		switch strings.ToLower(k) {
		case "supportemail":
			email = v
		case "supportphone":
			phone = v
		case "metadata":
			meta = v
		default:
			writeProblem(w, b.traceID(), map[string][]string{"$." + k: {fmt.Sprintf("Could not find member '%s' on object of type 'UpdateClientRequest'.", k)}})
			return
		}
	}
	isNull := func(m json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(m), []byte("null")) }
	var newEmail, newPhone *string
	clearPhone := false
	if email != nil && !isNull(email) {
		var s string
		if json.Unmarshal(email, &s) != nil {
			writeProblem(w, b.traceID(), map[string][]string{"$.supportEmail": {"The JSON value could not be converted to System.String."}})
			return
		}
		if !validEmail(strings.TrimSpace(s)) {
			writeValidation(w, []string{invalidEmail("SupportEmail")})
			return
		}
		s = strings.TrimSpace(s)
		newEmail = &s
	}
	if phone != nil {
		if isNull(phone) {
			clearPhone = true
		} else {
			var s string
			if json.Unmarshal(phone, &s) != nil {
				writeProblem(w, b.traceID(), map[string][]string{"$.supportPhone": {"The JSON value could not be converted to System.String."}})
				return
			}
			newPhone = &s
		}
	}
	var patch map[string]json.RawMessage
	if meta != nil && !isNull(meta) {
		if json.Unmarshal(meta, &patch) != nil {
			writeValidation(w, []string{"metadata must be a JSON object."})
			return
		}
	}
	l := b.lockActiveLink(w, r, ce, msgNoActiveLink)
	if l == nil {
		return
	}
	defer b.mu.Unlock()
	merged := map[string]any{}
	for k, v := range l.Metadata {
		merged[k] = v
	}
	for k, raw := range patch {
		if n := len([]rune(k)); n < 1 || n > maxMetadataKey {
			writeValidation(w, []string{fmt.Sprintf("Metadata keys must be 1-%d characters (got %q).", maxMetadataKey, k)})
			return
		}
		if isNull(raw) {
			delete(merged, k)
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var v any
		_ = dec.Decode(&v)
		switch v := v.(type) {
		case json.Number:
			// A number no float64 can hold (1e400) would be stored, served back in every
			// profile and make it undecodable for every client: refuse it, as .NET's double would.
			if f, err := v.Float64(); err != nil || math.IsInf(f, 0) {
				writeValidation(w, []string{fmt.Sprintf("Metadata value of %q is not a representable number.", k)})
				return
			}
			merged[k] = v
		case string, bool:
			merged[k] = v
		default:
			writeValidation(w, []string{fmt.Sprintf("Metadata value of %q must be a string, number or boolean.", k)})
			return
		}
	}
	if len(merged) > maxMetadataKeys {
		writeValidation(w, []string{fmt.Sprintf("Metadata can have at most %d keys.", maxMetadataKeys)})
		return
	}
	if enc, _ := json.Marshal(merged); len(enc) > maxMetadataBytes {
		writeValidation(w, []string{"Metadata must be at most 16 KB as JSON."})
		return
	}
	c := l.cred
	if newEmail != nil && *newEmail != c.SupportEmail {
		b.st.editCreditor(c, func() { c.SupportEmail = *newEmail })
	}
	if clearPhone {
		c.SupportPhone = ""
	} else if newPhone != nil {
		c.SupportPhone = *newPhone
	}
	if patch != nil {
		l.Metadata = merged
		if len(merged) == 0 {
			l.Metadata = nil
		}
	}
	l.UpdatedAt = b.now()
	ce.effect(EffectClientUpdated)
	writeJSON(w, http.StatusOK, b.profileWireLocked(l))
}

func (b *Backend) suspend(w http.ResponseWriter, r *http.Request, ce *call) {
	b.setSuspended(w, r, ce, true)
}

func (b *Backend) reactivate(w http.ResponseWriter, r *http.Request, ce *call) {
	b.setSuspended(w, r, ce, false)
}

func (b *Backend) setSuspended(w http.ResponseWriter, r *http.Request, ce *call, on bool) {
	l := b.lockActiveLink(w, r, ce, msgNoActiveLink)
	if l == nil {
		return
	}
	defer b.mu.Unlock()
	if l.Suspended != on {
		now := b.now()
		l.Suspended, l.UpdatedAt = on, now
		if on {
			l.SuspendedAt = &now
			ce.effect(EffectClientSuspended)
		} else {
			l.SuspendedAt = nil
			ce.effect(EffectClientReactivated)
		}
	}
	writeJSON(w, http.StatusOK, b.profileWireLocked(l))
}

package mockserver

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

func (b *Backend) submitKYC(w http.ResponseWriter, r *http.Request, ce *call) {
	var req reqKYC
	raw, empty, problem := readJSON(r, &req, "SubmitKycVerificationRequest")
	if problem != nil {
		writeProblem(w, b.traceID(), problem)
		return
	}
	notify := true
	for k, v := range r.URL.Query() {
		if strings.EqualFold(k, "sendChatNotification") && len(v) > 0 {
			x, err := strconv.ParseBool(v[0])
			if err != nil {
				writeValidation(w, []string{"The value '" + v[0] + "' is not valid for sendChatNotification."})
				return
			}
			notify = x
		}
	}
	var msgs []string
	var dob time.Time
	if empty {
		msgs = append(msgs, "Request cannot be null")
	} else {
		if blank(req.DirectorFullName) {
			msgs = append(msgs, required("DirectorFullName"))
		} else if over(req.DirectorFullName, 500) {
			msgs = append(msgs, tooLong("DirectorFullName", 500))
		}
		if blank(req.DirectorHomeAddress) {
			msgs = append(msgs, required("DirectorHomeAddress"))
		} else if over(req.DirectorHomeAddress, 1000) {
			msgs = append(msgs, tooLong("DirectorHomeAddress", 1000))
		}
		if blank(req.DirectorDateOfBirth) {
			msgs = append(msgs, required("DirectorDateOfBirth"))
		} else {
			t, err := time.Parse("2006-01-02", strings.TrimSpace(*req.DirectorDateOfBirth))
			if err != nil {
				msgs = append(msgs, "The value '"+*req.DirectorDateOfBirth+"' is not valid for DirectorDateOfBirth (use YYYY-MM-DD).")
			}
			dob = t
		}
	}
	if len(msgs) > 0 {
		writeValidation(w, msgs) // field errors are never stored under an Idempotency-Key
		return
	}
	if !b.lockCaller(w, ce) {
		return
	}
	defer b.mu.Unlock()
	b.idempotentLocked(w, r, ce, raw, func(w http.ResponseWriter) {
		l := b.activeLinkLocked(w, ce.partner, r.PathValue("externalTenantId"), "Client not found")
		if l == nil {
			return
		}
		now := b.now()
		k := &kycRec{
			DirectorFullName: strings.TrimSpace(*req.DirectorFullName), DirectorHomeAddress: strings.TrimSpace(*req.DirectorHomeAddress),
			DirectorDateOfBirth: dob.Format("2006-01-02"), DateCreated: now,
		}
		l.cred.KYC = k
		ce.effect(EffectKYCRecorded)
		if notify {
			for _, cs := range b.st.casesOf(l.cred) {
				if cs.Lifecycle != LifecycleClosed {
					cs.ChatMessages = append(cs.ChatMessages, "KYC verification submitted for "+k.DirectorFullName)
					ce.effect(EffectChatMessage)
				}
			}
		}
		writeJSON(w, http.StatusCreated, kycWire(k))
	})
}

package mockserver

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// The control API over HTTP, under /__mock/ (403 in the Production environment). JSON in, JSON
// out; errors are ApiErrorResponseDto. Every route is listed in the package doc.

func (b *Backend) adminRoutes() {
	m := http.NewServeMux()
	m.HandleFunc("POST /__mock/reset", func(w http.ResponseWriter, r *http.Request) {
		b.Reset()
		w.WriteHeader(http.StatusNoContent)
	})
	m.HandleFunc("POST /__mock/partners", adminCreate(b.AddPartner, func(p PartnerSpec) any { return p }))
	m.HandleFunc("POST /__mock/creditors", adminCreate(b.AddCreditor, idReply))
	m.HandleFunc("POST /__mock/clients/{externalTenantId}/complete-onboarding", clientAction(b.adminKey, b.CompleteOnboarding))
	m.HandleFunc("GET /__mock/clients/{externalTenantId}", clientInfo(b.adminKey, b.LinkedClient))
	m.HandleFunc("POST /__mock/agreement/release", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]int{"agreementVersion": b.ReleaseAgreement()})
	})
	m.HandleFunc("POST /__mock/links/{token}/approve", func(w http.ResponseWriter, r *http.Request) {
		if adminErr(w, b.ApproveLink(r.PathValue("token"))) {
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	m.HandleFunc("POST /__mock/links/{token}/decline", func(w http.ResponseWriter, r *http.Request) {
		if adminErr(w, b.DeclineLink(r.PathValue("token"))) {
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	m.HandleFunc("POST /__mock/links/expire", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]int{"expired": b.ExpireLinks()})
	})
	m.HandleFunc("POST /__mock/clock/advance", func(w http.ResponseWriter, r *http.Request) {
		var in clockAdvanceIn
		if !adminDecode(w, r, &in) {
			return
		}
		d, err := in.duration()
		if err != nil {
			writeAPIError(w, http.StatusBadRequest, "ValidationError", err.Error())
			return
		}
		now, err := b.AdvanceClock(d)
		if errors.Is(err, ErrConflict) {
			writeAPIError(w, http.StatusConflict, "ClockNotAdvanceable", "The mock's clock cannot be advanced (WithClock was given a clock without Advance).")
			return
		}
		if adminErr(w, err) {
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"now": ts(now)})
	})
	m.HandleFunc("GET /__mock/rate-limit", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, rateLimitJSON(b.RateLimit()))
	})
	m.HandleFunc("PUT /__mock/rate-limit", func(w http.ResponseWriter, r *http.Request) {
		var in rateLimitIn
		if !adminDecode(w, r, &in) {
			return
		}
		if !in.Disabled && in.Windows == nil {
			writeAPIError(w, http.StatusBadRequest, "ValidationError", `windows: required unless "disabled" is true ([] means no limit); valid members: disabled, windows`)
			return
		}
		windows, err := rateWindows(in.Windows)
		if err != nil {
			writeAPIError(w, http.StatusBadRequest, "ValidationError", err.Error())
			return
		}
		cfg := RateLimitConfig{Disabled: in.Disabled, Windows: windows}
		if adminErr(w, b.SetRateLimit(cfg)) {
			return
		}
		writeJSON(w, http.StatusOK, rateLimitJSON(cfg))
	})
	m.HandleFunc("POST /__mock/faults", func(w http.ResponseWriter, r *http.Request) {
		var in faultIn
		if !adminDecode(w, r, &in) {
			return
		}
		f := in.Fault
		if in.Latency != "" {
			d, err := time.ParseDuration(in.Latency)
			if err != nil {
				writeAPIError(w, http.StatusBadRequest, "ValidationError", "latency: "+err.Error())
				return
			}
			f.Latency = d
		}
		id, err := b.AddFault(f)
		if adminErr(w, err) {
			return
		}
		writeJSON(w, http.StatusCreated, idReply(id))
	})
	m.HandleFunc("GET /__mock/faults", func(w http.ResponseWriter, r *http.Request) {
		rules, _ := b.ListFaults()
		writeJSON(w, http.StatusOK, rules) // each Fault with its "id"
	})
	m.HandleFunc("DELETE /__mock/faults", func(w http.ResponseWriter, r *http.Request) {
		b.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	})
	m.HandleFunc("DELETE /__mock/faults/{id}", func(w http.ResponseWriter, r *http.Request) {
		if !b.RemoveFault(r.PathValue("id")) {
			writeNotFound(w, "no such fault")
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	m.HandleFunc("GET /__mock/journal", func(w http.ResponseWriter, r *http.Request) {
		f, err := parseJournalFilter(r.URL.Query())
		if adminErr(w, err) {
			return
		}
		writeJSON(w, http.StatusOK, f.apply(b.Journal()))
	})
	m.HandleFunc("DELETE /__mock/journal", func(w http.ResponseWriter, r *http.Request) {
		b.ResetJournal()
		w.WriteHeader(http.StatusNoContent)
	})
	m.HandleFunc("GET /__mock/state", func(w http.ResponseWriter, r *http.Request) {
		body, err := b.State()
		if err != nil {
			writeAPIError(w, http.StatusInternalServerError, "UnexpectedError", err.Error())
			return
		}
		writeRaw(w, http.StatusOK, "application/json; charset=utf-8", body)
	})
	m.HandleFunc("POST /__mock/token/check", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Token string `json:"token"`
		}
		if !adminDecode(w, r, &in) {
			return
		}
		writeJSON(w, http.StatusOK, b.CheckToken(in.Token))
	})
	m.HandleFunc("POST /__mock/webhooks/flush", func(w http.ResponseWriter, r *http.Request) {
		if err := b.FlushWebhooks(r.Context()); err != nil {
			writeAPIError(w, http.StatusServiceUnavailable, "Cancelled", err.Error())
			return
		}
		pending := 0
		for _, d := range b.Deliveries() {
			if d.State == DeliveryPending {
				pending++
			}
		}
		writeJSON(w, http.StatusOK, map[string]int{"pending": pending})
	})
	m.HandleFunc("GET /__mock/webhooks/deliveries", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, b.Deliveries())
	})
	m.HandleFunc("GET /__mock/webhooks", func(w http.ResponseWriter, r *http.Request) {
		hs := b.Webhooks(b.adminKey(r))
		if hs == nil {
			hs = []WebhookInfo{}
		}
		writeJSON(w, http.StatusOK, hs)
	})
	b.controllerRoutes(m) // controller_http.go
	b.dashboardRoutes(m)  // dashboard.go
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if writeMethodNotAllowed(w, m, r) {
			return
		}
		writeNotFound(w, "No mock control route matches "+r.Method+" "+r.URL.Path)
	})
	b.admin = m
}

type rateWindowJSON struct {
	Limit              int    `json:"limit"`
	Period             string `json:"period"`
	Segments           int    `json:"segments,omitempty"`
	AnchorFirstRequest bool   `json:"anchorFirstRequest,omitempty"`
}

type rateLimitIn struct {
	Disabled bool             `json:"disabled"`
	Windows  []rateWindowJSON `json:"windows"`
}

func rateLimitJSON(c RateLimitConfig) rateLimitIn {
	out := rateLimitIn{Disabled: c.Disabled, Windows: []rateWindowJSON{}}
	for _, w := range c.Windows {
		out.Windows = append(out.Windows, rateWindowJSON{Limit: w.Limit, Period: w.Period.String(), Segments: w.Segments, AnchorFirstRequest: w.AnchorFirstRequest})
	}
	return out
}

// faultIn is a Fault as JSON, with latency as a Go duration string ("250ms").
type faultIn struct {
	Fault
	Latency string `json:"latency,omitempty"`
}

// adminCreate is the handler of a POST that creates something: it decodes the body into a T
// (an empty body is the zero T), passes it to add and answers 201 with reply's view of the
// result, or the error add returned.
func adminCreate[T, R any](add func(T) (R, error), reply func(R) any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in T
		if !adminDecode(w, r, &in) {
			return
		}
		out, err := add(in)
		if adminErr(w, err) {
			return
		}
		writeJSON(w, http.StatusCreated, reply(out))
	}
}

// clientAction is the handler of a control route that acts on one client: act gets the partner
// partner reads from the request and the path's externalTenantId; success is 204 No Content.
func clientAction(partner func(*http.Request) string, act func(partner, ext string) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if adminErr(w, act(partner(r), r.PathValue("externalTenantId"))) {
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// clientInfo is clientAction for a route that reads: it answers 200 with what get returns.
func clientInfo[T any](partner func(*http.Request) string, get func(partner, ext string) (T, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		info, err := get(partner(r), r.PathValue("externalTenantId"))
		if adminErr(w, err) {
			return
		}
		writeJSON(w, http.StatusOK, info)
	}
}

// idReply is the answer to a POST that created something with id.
func idReply(id string) any { return map[string]string{"id": id} }

// adminKey is the partner a control route acts for: the request's XApiKey, else the default
// partner's key.
func (b *Backend) adminKey(r *http.Request) string {
	if key := r.Header.Get("XApiKey"); key != "" {
		return key
	}
	return b.defaultKey()
}

func adminDecode(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err == nil && len(strings.TrimSpace(string(body))) == 0 {
		return true
	}
	if err == nil {
		err = decodeStrict(body, v)
	} else {
		err = fmt.Errorf("invalid JSON: %v", err)
	}
	if err != nil {
		writeAPIError(w, http.StatusBadRequest, "ValidationError", err.Error())
		return false
	}
	return true
}

func adminErr(w http.ResponseWriter, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, ErrNotFound):
		writeAPIError(w, http.StatusNotFound, "NotFound", err.Error())
	case errors.Is(err, ErrConflict), errors.Is(err, ErrExpired):
		writeAPIError(w, http.StatusConflict, "Conflict", err.Error())
	case errors.Is(err, ErrInvalid):
		writeAPIError(w, http.StatusBadRequest, "ValidationError", err.Error())
	default:
		writeAPIError(w, http.StatusInternalServerError, "UnexpectedError", fmt.Sprint(err))
	}
	return true
}

package mockserver

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"time"

	"github.com/debitura-go/debitura/internal/statuswriter"
)

// FaultShape names a documented error body a [Fault] can answer with.
type FaultShape string

// The bodies a fault can send. Each is a shape Debitura (or a proxy in front of it) is known to
// send; the SDK has to decode all of them.
const (
	// ShapeAPIError is ApiErrorResponseDto (the default for a fault with a Status and no Body,
	// except 429, whose default is ShapeRateLimit).
	ShapeAPIError FaultShape = "ApiErrorResponseDto"
	// ShapeProblemDetails is an RFC 7807 ProblemDetails body (application/problem+json).
	ShapeProblemDetails FaultShape = "ProblemDetails"
	// ShapeHTML is a proxy's HTML error page (text/html), e.g. a 502 from a load balancer.
	ShapeHTML FaultShape = "html"
	// ShapeRateLimit is the documented 429 body {"error":"rate_limit_exceeded",...,"retryAfter":N}.
	ShapeRateLimit FaultShape = "rate_limit"
	// ShapeRateLimitLegacy is the legacy guide's {"error":{"type":"rate_limit_error",...,"retry_after":N}}.
	ShapeRateLimitLegacy FaultShape = "rate_limit_legacy"
	// ShapeRateLimitHeaderOnly is an empty body with a Retry-After header only.
	ShapeRateLimitHeaderOnly FaultShape = "rate_limit_header_only"
	// ShapeEmpty is an empty body.
	ShapeEmpty FaultShape = "empty"
	// ShapeConflict is a ConflictResponse {"type","message","data"} (default status 409) of
	// type ClientExistsNeedsLinking, with an approval URL in data.
	ShapeConflict FaultShape = "ConflictResponse"
	// ShapeBusinessError is a BusinessErrorResponseApiDTO {"businessErrors",
	// "signingHandoff"} (default status 422) of type NoPartnerAvailable.
	ShapeBusinessError FaultShape = "BusinessErrorResponse"
	// ShapeValidationProblem is ASP.NET's ValidationProblemDetails with an errors map (default
	// status 400, application/problem+json).
	ShapeValidationProblem FaultShape = "ValidationProblemDetails"
	// ShapeFieldMap is the docs' bare field map {"Users":["At least one user is required"]}
	// (default status 400).
	ShapeFieldMap FaultShape = "FieldMap"
)

// FaultHeader marks every response a fault produced or changed, with the fault's kind as value
// (status, truncate); contract validation skips such responses. A latency-only fault delays the
// real, unaltered response and does not mark it, so it is validated like any other. A Reset
// fault sends no response at all.
const FaultHeader = "X-Mock-Fault"

// Fault is a rule that changes how the mock answers an operation. Operation is an operationId of
// the API documents (e.g. "postClients"; "" matches every operation). PartnerID, when set, limits
// the rule to one partner.
//
// What happens, in order: Latency is waited (ending early if the request's context ends). Then,
// with After, the real handler runs first (its side effects happen) and its response is replaced
// or dropped - the "outcome unknown" case. Reset closes the connection without a response.
// Truncate sends the headers and half of the body (the real body with After, else the fault body)
// and closes the connection. Status (with Body, or a Shape, default ShapeAPIError) replaces the
// response. A fault with only Latency delays the real response. The response's write deadline
// is moved to Latency plus a minute, so that a server's WriteTimeout does not cut the delayed
// answer.
//
// Times > 0 limits how often the rule fires (it is removed after the last time); Probability in
// (0,1) makes it fire at random (drawn from the mock's seeded stream; 0 means always).
type Fault struct {
	Operation   string        `json:"operation,omitempty"`
	PartnerID   string        `json:"partnerId,omitempty"`
	Status      int           `json:"status,omitempty"`
	Body        string        `json:"body,omitempty"`
	Shape       FaultShape    `json:"shape,omitempty"`
	RetryAfter  float64       `json:"retryAfter,omitempty"` // seconds, for the rate-limit shapes
	Header      http.Header   `json:"header,omitempty"`
	Latency     time.Duration `json:"latency,omitempty"`
	Reset       bool          `json:"reset,omitempty"`
	Truncate    bool          `json:"truncate,omitempty"`
	After       bool          `json:"after,omitempty"`
	Times       int           `json:"times,omitempty"`
	Probability float64       `json:"probability,omitempty"`
}

type faultRule struct {
	id        string
	f         Fault
	remaining int
}

type faultSet struct {
	mu    sync.Mutex
	seq   int
	rules []*faultRule
}

// InjectFault adds a fault rule and returns its id (for RemoveFault). It panics when the rule is
// invalid (see [Backend.AddFault], which returns the error instead), so a typo in a test's
// operation id fails the test instead of arming a rule that never fires.
func (b *Backend) InjectFault(f Fault) string {
	id, err := b.AddFault(f)
	if err != nil {
		panic("mockserver: InjectFault: " + err.Error())
	}
	return id
}

// addFaultRule adds a checked rule.
func (b *Backend) addFaultRule(f Fault) string {
	fs := b.faults
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.seq++
	id := "fault-" + strconv.Itoa(fs.seq)
	fs.rules = append(fs.rules, &faultRule{id: id, f: f, remaining: f.Times})
	return id
}

// RemoveFault removes one fault rule; it reports whether the rule existed.
func (b *Backend) RemoveFault(id string) bool {
	fs := b.faults
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for i, r := range fs.rules {
		if r.id == id {
			fs.rules = append(fs.rules[:i], fs.rules[i+1:]...)
			return true
		}
	}
	return false
}

// ClearFaults removes every fault rule.
func (b *Backend) ClearFaults() {
	b.faults.mu.Lock()
	b.faults.rules = nil
	b.faults.mu.Unlock()
}

// Faults lists the active fault rules.
func (b *Backend) Faults() []Fault {
	rules := b.faultRules()
	out := make([]Fault, len(rules))
	for i, r := range rules {
		out[i] = r.Fault
	}
	return out
}

// faultRules lists the active fault rules with their ids, in the order they are matched; Times
// is what is left of each.
func (b *Backend) faultRules() []FaultRule {
	fs := b.faults
	fs.mu.Lock()
	defer fs.mu.Unlock()
	out := make([]FaultRule, 0, len(fs.rules))
	for _, r := range fs.rules {
		f := r.f
		if r.remaining > 0 {
			f.Times = r.remaining
		}
		out = append(out, FaultRule{ID: r.id, Fault: f})
	}
	return out
}

// match picks the first rule that applies and fires, consuming one of its Times.
func (b *Backend) matchFault(op, partnerID string) *Fault {
	fs := b.faults
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for i, r := range fs.rules {
		if r.f.Operation != "" && r.f.Operation != op {
			continue
		}
		if r.f.PartnerID != "" && r.f.PartnerID != partnerID {
			continue
		}
		if p := r.f.Probability; p > 0 && p < 1 && b.ids.float() >= p {
			continue
		}
		if r.remaining > 0 {
			r.remaining--
			if r.remaining == 0 {
				fs.rules = append(fs.rules[:i], fs.rules[i+1:]...)
			}
		}
		f := r.f
		return &f
	}
	return nil
}

func (f *Fault) kind() string {
	switch {
	case f.Reset:
		return "reset"
	case f.Truncate:
		return "truncate"
	case f.Status != 0 || f.Body != "" || f.Shape != "":
		return "status"
	default:
		return "latency"
	}
}

// replaces reports whether the fault changes the response (rather than only delaying it).
func (f *Fault) replaces() bool { return f.kind() != "latency" }

// body builds the fault's status, content type and body.
func (f *Fault) response() (int, string, []byte, http.Header) {
	status := f.Status
	h := http.Header{}
	shape := f.Shape
	if status == 0 {
		switch shape {
		case ShapeRateLimit, ShapeRateLimitLegacy, ShapeRateLimitHeaderOnly:
			status = http.StatusTooManyRequests
		case ShapeHTML:
			status = http.StatusBadGateway
		case ShapeConflict:
			status = http.StatusConflict
		case ShapeBusinessError:
			status = http.StatusUnprocessableEntity
		case ShapeValidationProblem, ShapeFieldMap:
			status = http.StatusBadRequest
		default:
			status = http.StatusInternalServerError
		}
	}
	if f.Body != "" {
		return status, "application/json; charset=utf-8", []byte(f.Body), h
	}
	if shape == "" && status == http.StatusTooManyRequests {
		// A bare 429 is a rate limit: answer the documented body (with retryAfter), which the
		// SDK reads, rather than a generic error the real API never sends with 429.
		shape = ShapeRateLimit
	}
	if shape == "" {
		shape = ShapeAPIError
	}
	ra := f.RetryAfter
	if ra == 0 {
		ra = 1
	}
	text := http.StatusText(status)
	switch shape {
	case ShapeProblemDetails:
		b, _ := json.Marshal(wireProblem{Type: "https://tools.ietf.org/html/rfc9110#section-15.6.1", Title: text, Status: status, TraceID: "00-mockfault-00"})
		return status, "application/problem+json; charset=utf-8", b, h
	case ShapeHTML:
		page := fmt.Sprintf("<html>\r\n<head><title>%d %s</title></head>\r\n<body>\r\n<center><h1>%d %s</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n", status, text, status, text)
		return status, "text/html", []byte(page), h
	case ShapeRateLimit:
		b, _ := json.Marshal(wireRateLimit{Error: "rate_limit_exceeded", Message: rateLimitMessage, RetryAfter: ra})
		return status, "application/json; charset=utf-8", b, h
	case ShapeRateLimitLegacy:
		b, _ := json.Marshal(map[string]any{"error": map[string]any{"type": "rate_limit_error", "message": "Too many requests", "retry_after": int(ra + 0.999)}})
		return status, "application/json; charset=utf-8", b, h
	case ShapeRateLimitHeaderOnly:
		h.Set("Retry-After", strconv.Itoa(int(ra+0.999)))
		return status, "", nil, h
	case ShapeEmpty:
		return status, "", nil, h
	case ShapeConflict:
		url := "https://app.debitura.com/ReferralPartner/Approve?token=mock-fault"
		b, _ := json.Marshal(wireConflict{Type: ConflictNeedsLinking,
			Message: "Client already exists in Debitura. Approval required to link to referral partner.",
			Data:    wireNeedsLinkingData{ExternalTenantID: "mock-fault-tenant", OnboardingLinks: wireOnboardingLinks{URL: &url}}})
		return status, "application/json; charset=utf-8", b, h
	case ShapeBusinessError:
		url := "https://app.debitura.com/sign/mock-fault"
		b, _ := json.Marshal(map[string]any{
			"businessErrors": []wireBusinessError{{Type: strp("NoPartnerAvailable"), Message: strp("No collection partner is available for this jurisdiction.")}},
			"signingHandoff": wireSigningHandoff{CombinedSigningURL: &url},
		})
		return status, "application/json; charset=utf-8", b, h
	case ShapeValidationProblem:
		b, _ := json.Marshal(wireProblem{Type: "https://tools.ietf.org/html/rfc9110#section-15.5.1", Title: "One or more validation errors occurred.",
			Status: status, Errors: map[string][]string{"$.users": {"The users field is required."}}, TraceID: "00-mockfault-00"})
		return status, "application/problem+json; charset=utf-8", b, h
	case ShapeFieldMap:
		b, _ := json.Marshal(map[string][]string{"Users": {"At least one user is required"}})
		return status, "application/json; charset=utf-8", b, h
	default:
		msg := "An unexpected error occurred."
		if status < 500 {
			msg = text
		}
		b, _ := json.Marshal(wireAPIError{Error: strp(msg), Message: strp(msg), BusinessErrors: []wireBusinessError{{Type: strp("UnexpectedError"), Message: strp(msg)}}})
		return status, "application/json; charset=utf-8", b, h
	}
}

// latencyWriteAllowance is how long a delayed answer may take to write once its latency
// has passed.
const latencyWriteAllowance = time.Minute

// serveFault applies f to the request. real runs the real handler (used with After and for
// latency-only faults). It calls done with the status once the outcome is settled, and before
// a Reset or Truncate closes the connection: a client that sees the connection drop then
// finds the request, and its side effects, in the journal.
func (b *Backend) serveFault(w http.ResponseWriter, r *http.Request, f *Fault, real func(http.ResponseWriter), done func(status int)) {
	if f.Latency > 0 {
		// A server's WriteTimeout (debitura-mock -write-timeout) counts from the end of the
		// request, so it would cut the delayed answer a test asked for: move this response's
		// write deadline past the latency. Ignored where the writer cannot reach the connection.
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(f.Latency + latencyWriteAllowance))
		t := time.NewTimer(f.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		}
	}
	if !f.replaces() {
		// Latency only: the response is the real handler's, unaltered, so it is not marked and
		// contract validation checks it.
		rec := statuswriter.New(w)
		real(rec)
		done(rec.Code())
		return
	}
	var status int
	var ctype string
	var body []byte
	hdr := http.Header{}
	if f.After {
		rec := httptest.NewRecorder()
		real(rec)
		status, ctype, body, hdr = rec.Code, rec.Header().Get("Content-Type"), rec.Body.Bytes(), rec.Header()
		if f.Status != 0 || f.Body != "" || f.Shape != "" {
			var h2 http.Header
			status, ctype, body, h2 = f.response()
			hdr = h2
		}
	} else {
		status, ctype, body, hdr = f.response()
	}
	for k, v := range f.Header {
		hdr[k] = v
	}
	switch {
	case f.Reset:
		done(0)
		abortConnection(w, nil)
		return
	case f.Truncate:
		done(status)
		hdr.Set(FaultHeader, "truncate")
		if ctype != "" {
			hdr.Set("Content-Type", ctype)
		}
		abortConnection(w, func(bw *bufio.Writer) {
			fmt.Fprintf(bw, "HTTP/1.1 %d %s\r\n", status, http.StatusText(status))
			hdr.Set("Content-Length", strconv.Itoa(len(body)))
			hdr.Set("Connection", "close")
			_ = hdr.Write(bw)
			bw.WriteString("\r\n")
			bw.Write(body[:len(body)/2])
		})
		return
	}
	for k, v := range hdr {
		w.Header()[k] = v
	}
	w.Header().Set(FaultHeader, "status")
	writeRaw(w, status, ctype, body)
	done(status)
}

// abortConnection takes over the connection, optionally writes raw bytes, and closes it. When the
// ResponseWriter cannot be hijacked (HTTP/2, a recorder) the handler is aborted instead.
func abortConnection(w http.ResponseWriter, write func(*bufio.Writer)) {
	conn, bufrw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if write != nil {
		write(bufrw.Writer)
		_ = bufrw.Flush()
	}
	if tc, ok := conn.(interface{ SetLinger(int) error }); ok && write == nil {
		_ = tc.SetLinger(0) // a TCP reset rather than an orderly close
	}
	_ = conn.Close()
}

package debitura

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ClientsService links, reads, lists and manages the partner's clients (the API's "clients"
// resource, LinkedClient in this SDK). It is safe for concurrent use.
//
// Errors: a request the SDK refuses to send is a *[ValidationError]. Every answer other than 2xx
// is an *[APIError] (errors.Is works with ErrNotFound, ErrValidation, ErrConflict, ErrUnauthorized,
// ErrForbidden, ErrRateLimited, ErrServer); transport failures and ctx ending are wrapped with %w.
type ClientsService struct{ service }

// Create creates a client and links it to the partner, or returns the current state of the
// client already linked under req.ExternalTenantID (POST /clients; idempotent per
// externalTenantId, so it is retried after failures whose outcome is unknown).
//
// The result's StatusCode is 201 when onboarding is done and 202 when it is not; then
// OnboardingURL() is the hosted page to send the client to. When the request had to be sent more
// than once, Uncertain is true and failed cases of type IdempotencyViolation are marked
// PossiblyCreated.
//
// Errors: *[ValidationError] before sending (missing externalTenantId, client name, country or
// support e-mail; no user; a user without name or e-mail; several users without exactly one
// onboarding user; fields over the spec's lengths; invalid cases). A 409 is a *[ConflictError]
// (errors.Is ErrConflict); its two documented types are *[ClientExistsNeedsLinkingError] and
// *[AlreadyLinkedToAnotherPartnerError], reachable with errors.As. 400 and 422 are *[APIError]
// matching ErrValidation.
func (s *ClientsService) Create(ctx context.Context, req *ClientCreateRequest, callOpts ...CallOption) (*LinkedClient, error) {
	const name = "Clients.Create"
	if err := req.validate(name); err != nil {
		return nil, err
	}
	out := new(LinkedClient)
	resp, err := s.client.do(ctx, &apiRequest{
		name:   name,
		op:     "postClients",
		method: "POST",
		route:  "/clients",
		path:   "/clients",
		body:   req,
		retry:  retrySafe,
	}, out, callOpts...)
	if err != nil {
		return nil, linkConflict(err, s.client.cfg.apiKey.Reveal())
	}
	out.StatusCode = resp.StatusCode
	markUncertain(out, resp)
	return out, nil
}

// linkConflict turns the 409 of POST /clients (an *APIError whose body is a conflict object)
// into the most specific conflict error; legacy guide envelopes
// {"error":{"type":"conflict_error","conflict_type":...,"details":{...}}} are accepted too. It
// returns err itself for every other error. secrets (the API key) are removed from every field;
// the approval URL keeps its token, without which it does not work.
func linkConflict(err error, secrets ...string) error {
	apiErr, ok := err.(*APIError)
	if !ok || apiErr.StatusCode != http.StatusConflict || apiErr.conflict == nil {
		return err
	}
	body := apiErr.conflict
	ce := &ConflictError{Type: ConflictType(redact(body.str("type"), secrets...)), Message: apiErr.Message, Err: apiErr}
	dataKey := "data"
	if strings.EqualFold(body.str("type"), "conflict_error") { // legacy guide
		ce.Type = ConflictType(redact(body.str("conflict_type"), secrets...))
		dataKey = "details"
	}
	if raw, ok := body[dataKey]; ok && string(raw) != "null" {
		ce.Data = json.RawMessage(redactLinks(string(raw), secrets...))
		if data := parseObject(raw); data != nil {
			ce.ExternalTenantID = redact(data.str("externaltenantid"), secrets...)
			if links := data.obj("onboardinglinks"); links != nil {
				ce.ApprovalURL = links.str("url")
			}
			if ce.ApprovalURL == "" {
				ce.ApprovalURL = data.str("approvalurl")
			}
			ce.ApprovalURL = redactLinks(ce.ApprovalURL, secrets...)
		}
	}
	switch ce.Type {
	case ClientExistsNeedsLinking:
		return &ClientExistsNeedsLinkingError{ExternalTenantID: ce.ExternalTenantID, ApprovalURL: ce.ApprovalURL, Err: ce}
	case ClientAlreadyLinkedToAnotherPartner, AlreadyLinkedToAnotherPartner:
		return &AlreadyLinkedToAnotherPartnerError{ExternalTenantID: ce.ExternalTenantID, Err: ce}
	}
	return ce
}

// Get returns the client linked under externalTenantID (GET /clients/{externalTenantId}). The id
// is case-sensitive and path-escaped.
//
// Errors: *[ValidationError] for an empty id; *[APIError] matching ErrNotFound when no active link
// of the partner has that id (never linked, withdrawn, reset, pending approval, or another
// partner's).
func (s *ClientsService) Get(ctx context.Context, externalTenantID string, callOpts ...CallOption) (*LinkedClient, error) {
	r, err := operation{name: "Clients.Get", op: "getClientsByExternalTenantId",
		method: "GET", route: "/clients/{externalTenantId}", retry: retrySafe}.request(externalTenantID)
	if err != nil {
		return nil, err
	}
	out := new(LinkedClient)
	resp, err := s.client.do(ctx, r, out, callOpts...)
	if err != nil {
		return nil, err
	}
	out.StatusCode = resp.StatusCode
	return out, nil
}

// ClientSort orders GET /clients: "field[:asc|desc]" over the fields dateCreated and name.
type ClientSort string

// The sort orders GET /clients supports. The API's default is SortDateCreatedDesc.
const (
	SortDateCreatedDesc ClientSort = "dateCreated:desc"
	SortDateCreatedAsc  ClientSort = "dateCreated:asc"
	SortNameAsc         ClientSort = "name:asc"
	SortNameDesc        ClientSort = "name:desc"
)

// MaxPageSize is the largest page GET /clients serves.
const MaxPageSize = 100

// ClientListOptions are the query parameters of GET /clients. Zero values are not sent, so the
// API's defaults apply (page 1, 50 per page, newest first); nil pointers leave a filter out.
type ClientListOptions struct {
	// Page is the page number, from 1. 0 means 1.
	Page int
	// PageSize is the number of clients per page, 1 to 100. 0 means the API's default (50) for
	// List and 100 for All.
	PageSize int
	// Query searches company name, office e-mail and registration number, case-insensitively.
	Query string
	// ExternalTenantID keeps the client with exactly this id.
	ExternalTenantID string
	// IsAttributedClient keeps attributed (true) or linked-after-approval (false) clients.
	IsAttributedClient *bool
	// DateCreatedFrom keeps links created at or after this time.
	DateCreatedFrom time.Time
	// DateCreatedTo keeps links created at or before this time.
	DateCreatedTo time.Time
	// OnboardingDone keeps clients whose onboarding is done (true) or pending (false).
	OnboardingDone *bool
	// Sort orders the list; "" is the API's default (SortDateCreatedDesc).
	Sort ClientSort
}

// query checks o and returns its query string values. The names are the API's: Page, PageSize,
// Query, ExternalTenantId, IsAttributedClient, DateCreatedFrom, DateCreatedTo, OnboardingDone,
// Sort.
func (o *ClientListOptions) query(op string) (url.Values, error) {
	q := url.Values{}
	if o == nil {
		return q, nil
	}
	p := &problems{op: op}
	if o.Page < 0 {
		p.add("Page", "must be at least 1, got %d", o.Page)
	}
	if o.PageSize < 0 || o.PageSize > MaxPageSize {
		p.add("PageSize", "must be between 1 and %d, got %d", MaxPageSize, o.PageSize)
	}
	if !o.DateCreatedFrom.IsZero() && !o.DateCreatedTo.IsZero() && o.DateCreatedTo.Before(o.DateCreatedFrom) {
		p.add("DateCreatedTo", "is before DateCreatedFrom")
	}
	if o.Sort != "" && !validSort(o.Sort) {
		p.add("Sort", "%q is not field[:asc|desc] with field dateCreated or name", string(o.Sort))
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	if o.Page > 0 {
		q.Set("Page", strconv.Itoa(o.Page))
	}
	if o.PageSize > 0 {
		q.Set("PageSize", strconv.Itoa(o.PageSize))
	}
	if o.Query != "" {
		q.Set("Query", o.Query)
	}
	if o.ExternalTenantID != "" {
		q.Set("ExternalTenantId", o.ExternalTenantID)
	}
	if o.IsAttributedClient != nil {
		q.Set("IsAttributedClient", strconv.FormatBool(*o.IsAttributedClient))
	}
	if !o.DateCreatedFrom.IsZero() {
		q.Set("DateCreatedFrom", o.DateCreatedFrom.Format(time.RFC3339Nano))
	}
	if !o.DateCreatedTo.IsZero() {
		q.Set("DateCreatedTo", o.DateCreatedTo.Format(time.RFC3339Nano))
	}
	if o.OnboardingDone != nil {
		q.Set("OnboardingDone", strconv.FormatBool(*o.OnboardingDone))
	}
	if o.Sort != "" {
		q.Set("Sort", string(o.Sort))
	}
	return q, nil
}

func validSort(s ClientSort) bool {
	field, dir, hasDir := strings.Cut(string(s), ":")
	if field != "dateCreated" && field != "name" {
		return false
	}
	return !hasDir || dir == "asc" || dir == "desc"
}

// List returns one page of the partner's active client links (GET /clients) with its PageData and
// the partner's ClientsSummary. A nil opts lists the first page with the API's defaults. To walk
// every page use [ClientsService.All]; to resume a walk, set opts.Page.
//
// Errors: *[ValidationError] before sending for a negative Page, a PageSize outside 1..100, an
// unknown Sort or DateCreatedTo before DateCreatedFrom; *[APIError] (ErrValidation) for a 400.
func (s *ClientsService) List(ctx context.Context, opts *ClientListOptions, callOpts ...CallOption) (*ClientList, error) {
	const name = "Clients.List"
	q, err := opts.query(name)
	if err != nil {
		return nil, err
	}
	return doResult[ClientList](ctx, s.client, &apiRequest{
		name:   name,
		op:     "getClients",
		method: "GET",
		route:  "/clients",
		path:   "/clients",
		query:  q,
		retry:  retrySafe,
	}, callOpts)
}

// Withdraw withdraws an attributed client that never finished onboarding
// (POST /clients/{externalTenantId}/withdraw): the link is archived and its pending cases are
// closed. The same externalTenantId can then be created again, as a new client. When a retry
// after an attempt whose outcome is unknown answers 404, the first attempt worked and Withdraw
// returns nil.
//
// Errors: *[ValidationError] for an empty id; *[APIError] matching ErrNotFound (no active link)
// or ErrConflict (the client is not attributed or a case has progressed; not a link conflict).
func (s *ClientsService) Withdraw(ctx context.Context, externalTenantID string, callOpts ...CallOption) error {
	return sendOperation(ctx, s.client, operation{name: "Clients.Withdraw", op: "postClientsByExternalTenantIdWithdraw",
		method: "POST", route: "/clients/{externalTenantId}/withdraw", retry: retryDelete}, externalTenantID, callOpts)
}

// Reset deletes a client with its cases, leads and creditor account (DELETE
// /clients/{externalTenantId}). It works in the test environment only; production answers 403.
// When a retry after an attempt whose outcome is unknown answers 404, the first attempt worked
// and Reset returns nil.
//
// Errors: *[ValidationError] for an empty id; *[APIError] matching ErrForbidden (production) or
// ErrNotFound (no active link).
func (s *ClientsService) Reset(ctx context.Context, externalTenantID string, callOpts ...CallOption) error {
	return sendOperation(ctx, s.client, operation{name: "Clients.Reset", op: "deleteClientsByExternalTenantId",
		method: "DELETE", route: "/clients/{externalTenantId}", retry: retryDelete}, externalTenantID, callOpts)
}

// IsDeletable reports whether [ClientsService.Reset] would succeed for the client
// (GET /clients/{externalTenantId}/is-deletable; test environment only).
//
// Errors: *[ValidationError] for an empty id; *[APIError] matching ErrForbidden (production) or
// ErrNotFound.
func (s *ClientsService) IsDeletable(ctx context.Context, externalTenantID string, callOpts ...CallOption) (*Deletability, error) {
	return doOperation[Deletability](ctx, s.client, operation{name: "Clients.IsDeletable", op: "getClientsByExternalTenantIdIsDeletable",
		method: "GET", route: "/clients/{externalTenantId}/is-deletable", retry: retrySafe}, externalTenantID, callOpts)
}

// SubmitKYC submits the client's director data for KYC/AML
// (POST /clients/{externalTenantId}/kyc-verification); the latest submission counts. The call
// carries an Idempotency-Key (the caller's, from [WithIdempotencyKey], or one the SDK generates)
// that is reused on every retry, so a retry never submits twice.
//
// Errors: *[ValidationError] before sending (empty id, a director name outside 1..500 or an
// address outside 1..1000 characters, a missing or impossible date of birth, an Idempotency-Key
// over 255 characters); *[APIError] matching ErrNotFound (no such client) or ErrValidation (400,
// and the 422 IdempotencyConflict of a key reused with a different body).
func (s *ClientsService) SubmitKYC(ctx context.Context, externalTenantID string, req *KYCRequest, callOpts ...CallOption) (*KYCVerification, error) {
	var q url.Values
	if req != nil && req.SendChatNotification != nil {
		q = url.Values{"sendChatNotification": {strconv.FormatBool(*req.SendChatNotification)}}
	}
	return doOperation[KYCVerification](ctx, s.client, operation{name: "Clients.SubmitKYC", op: "postClientsByExternalTenantIdKycVerification",
		method: "POST", route: "/clients/{externalTenantId}/kyc-verification", retry: retryWithKey,
		query: q, body: req, validate: req.validate}, externalTenantID, callOpts)
}

func (r *KYCRequest) validate(op string) error {
	if r == nil {
		return invalid(op, "request", "is nil")
	}
	p := &problems{op: op}
	p.length("directorFullName", r.DirectorFullName, 1, 500)
	p.length("directorHomeAddress", r.DirectorHomeAddress, 1, 1000)
	if r.DirectorDateOfBirth.IsZero() {
		p.add("directorDateOfBirth", "is required")
	} else if !r.DirectorDateOfBirth.IsValid() {
		p.add("directorDateOfBirth", "%s is not a date", r.DirectorDateOfBirth)
	}
	return p.err()
}

// validate checks the rules of CreateClientRequest that the SDK can check without Debitura, and
// reports every problem it finds.
func (r *ClientCreateRequest) validate(op string) error {
	if r == nil {
		return invalid(op, "request", "is nil")
	}
	p := &problems{op: op}
	p.externalTenantID("externalTenantId", r.ExternalTenantID, -1)
	c := &r.Client
	p.length("client.name", strings.TrimSpace(c.Name), 1, -1)
	p.length("client.country", strings.TrimSpace(c.Country), 1, -1)
	p.email("client.supportEmail", c.SupportEmail)
	for _, f := range []struct {
		field, v string
		max      int
	}{
		{"client.address", c.Address, 500},
		{"client.zipCode", c.ZipCode, 20},
		{"client.city", c.City, 100},
		{"client.state", c.State, 100},
	} {
		p.length(f.field, f.v, 0, f.max)
	}
	if len(r.Users) == 0 {
		p.add("users", "at least one user is required")
	}
	onboarding := 0
	for i, u := range r.Users {
		p.length(fmt.Sprintf("users[%d].name", i), strings.TrimSpace(u.Name), 1, -1)
		p.email(fmt.Sprintf("users[%d].email", i), u.Email)
		if u.IsOnboardingUser {
			onboarding++
		}
	}
	if len(r.Users) > 1 && onboarding != 1 {
		p.add("users", "with %d users exactly one must have isOnboardingUser=true, got %d", len(r.Users), onboarding)
	}
	refs := make(map[string]int, len(r.Cases))
	for i := range r.Cases {
		at := fmt.Sprintf("cases[%d]", i)
		refOK := r.Cases[i].check(p, at)
		if ref := r.Cases[i].CreditorReference; ref != "" && refOK {
			if j, dup := refs[ref]; dup {
				p.add(at+".creditorReference", "%q repeats cases[%d]", ref, j)
			} else {
				refs[ref] = i
			}
		}
	}
	return p.err()
}

// check adds the problems of the case at path at (e.g. "cases[0]") to p. It reports whether
// the creditorReference passed, so that a duplicate reference is only reported for a valid one.
func (c *CaseRequest) check(p *problems, at string) (refOK bool) {
	p.length(at+".currencyCode", strings.TrimSpace(c.CurrencyCode), 1, -1)
	p.length(at+".comments", c.Comments, 0, 4000)
	p.length(at+".claimDescription", c.ClaimDescription, 0, 4000)
	refOK = p.length(at+".creditorReference", c.CreditorReference, 0, 50)
	p.length(at+".tag", c.Tag, 0, 100)
	if p.length(at+".assignedUserEmail", c.AssignedUserEmail, 0, 320) && c.AssignedUserEmail != "" {
		p.email(at+".assignedUserEmail", c.AssignedUserEmail)
	}
	p.length(at+".returnUrl", c.ReturnURL, 0, 2048)
	if c.Debtor != nil {
		p.length(at+".debtor.type", string(c.Debtor.Type), 1, -1)
		p.length(at+".debtor.name", strings.TrimSpace(c.Debtor.Name), 1, -1)
	}
	if (c.AmountToRecoverOver12Months == nil) != (c.AmountToRecoverOver24Months == nil) {
		p.add(at+".amountToRecoverOver12Months", "must be given together with amountToRecoverOver24Months")
	}
	return refOK
}

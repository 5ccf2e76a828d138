// Package contract checks HTTP traffic against the API documents in package
// api (openapi.yaml and guide-extension.openapi.yaml) with kin-openapi.
//
// Three ways in:
//
//   - [Middleware] wraps an http.Handler (the mock server) and reports every
//     request and response that violates the documents with t.Errorf.
//   - [Transport] wraps an http.RoundTripper (the SDK's client side, for
//     httptest or httpmock based tests) and does the same.
//   - [Validator] is the plain checker both are built on.
//
// Rules: a path that neither document describes (/__mock/..., hosted pages,
// /customer-api/...) is skipped. Each document gets its own router, and the
// first document whose router matches method and path is used, so PATCH
// /clients/{externalTenantId} is checked against the guide extension while
// GET /clients/{externalTenantId} is checked against openapi.yaml. A path that
// a document describes but with no operation for the method in any document
// is a violation ([ErrUndeclaredOperation]). A response carrying the header
// X-Mock-Fault (an injected fault) is not checked. A response whose status
// the operation does not declare (401, 429, ...) is accepted, as kin-openapi
// does by default; a declared status must match its schema and content type.
// A request carrying the header [SkipRequestHeader] is not checked (its
// response still is): tests that send invalid requests on purpose set it.
//
// Security requirements (the XApiKey scheme) are not checked: a missing key is
// the server's business (401), not a contract violation. Messages never
// contain header values, nor the offending body values (kin-openapi's schema
// error details are disabled), so keys and tokens do not leak into test logs.
package contract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/debitura-go/debitura/api"
)

// FaultHeader marks a response as an injected fault (set by the mock's fault
// injector). Such responses are not validated.
const FaultHeader = "X-Mock-Fault"

// SkipRequestHeader, when present on a request (any value), turns off the
// validation of that request, including the undeclared-operation check. The
// response is still validated. Use it in tests that send invalid requests on
// purpose to see how the server answers them.
const SkipRequestHeader = "X-Contract-Skip-Request"

// ErrNotInContract is returned (wrapped) when no document describes the
// request's path. Middleware and Transport skip such traffic.
var ErrNotInContract = errors.New("path not described by any API document")

// ErrUndeclaredOperation is returned (wrapped) when a document describes the
// request's path but no document declares an operation for its method.
var ErrUndeclaredOperation = errors.New("method not declared for this path in any API document")

// Document is one OpenAPI 3.0 document to validate against.
type Document struct {
	// Name identifies the document in messages, e.g. "openapi.yaml".
	Name string
	// Data is the YAML or JSON content of the document.
	Data []byte
}

// Documents returns the module's two API documents in matching order:
// openapi.yaml first, then guide-extension.openapi.yaml.
func Documents() []Document {
	return []Document{
		{Name: api.OpenAPIFile, Data: api.OpenAPI},
		{Name: api.GuideExtensionFile, Data: api.GuideExtension},
	}
}

type document struct {
	name   string
	router routers.Router
}

// Validator validates requests and responses against a list of OpenAPI
// documents. It is safe for concurrent use.
type Validator struct {
	docs    []document
	options *openapi3filter.Options
}

// New loads and validates the given documents (by default [Documents]) and
// builds one router per document. The documents' servers are ignored, so that
// routing depends on method and path only and works for httptest servers on
// 127.0.0.1 as well as for the production host.
func New(docs ...Document) (*Validator, error) {
	if len(docs) == 0 {
		docs = Documents()
	}
	v := &Validator{
		options: &openapi3filter.Options{
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
			// Setting defaults rewrites the request body kin-openapi validates;
			// validation must observe, never change, the traffic.
			SkipSettingDefaults: true,
			MultiError:          true,
			SchemaValidationOptions: []openapi3.SchemaValidationOption{
				// Keep the offending values (possibly tokens) out of messages.
				openapi3.DisableSchemaErrorDetails(),
			},
		},
	}
	for _, d := range docs {
		loader := openapi3.NewLoader()
		spec, err := loader.LoadFromData(d.Data)
		if err != nil {
			return nil, fmt.Errorf("contract: load %s: %w", d.Name, err)
		}
		if err := spec.Validate(context.Background()); err != nil {
			return nil, fmt.Errorf("contract: %s is not a valid OpenAPI document: %w", d.Name, err)
		}
		spec.Servers = nil // route on method and path only
		router, err := gorillamux.NewRouter(spec)
		if err != nil {
			return nil, fmt.Errorf("contract: router for %s: %w", d.Name, err)
		}
		v.docs = append(v.docs, document{name: d.Name, router: router})
	}
	return v, nil
}

var defaultValidator = sync.OnceValues(func() (*Validator, error) { return New() })

// Default returns a Validator for [Documents], built once per process.
func Default() (*Validator, error) { return defaultValidator() }

// match is the result of routing one request.
type match struct {
	doc    string
	route  *routers.Route
	params map[string]string
}

// find picks the first document whose router matches method and path.
func (v *Validator) find(req *http.Request) (*match, error) {
	pathKnown := false
	for _, d := range v.docs {
		route, params, err := d.router.FindRoute(req)
		if err == nil {
			return &match{doc: d.name, route: route, params: params}, nil
		}
		if errors.Is(err, routers.ErrMethodNotAllowed) {
			pathKnown = true
		}
	}
	if pathKnown {
		return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, ErrUndeclaredOperation)
	}
	return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, ErrNotInContract)
}

// Operation names the document and operation that req routes to, e.g.
// "openapi.yaml POST /clients (createClient)". It returns an error wrapping
// ErrNotInContract or ErrUndeclaredOperation when req routes nowhere.
func (v *Validator) Operation(req *http.Request) (string, error) {
	m, err := v.find(req)
	if err != nil {
		return "", err
	}
	return m.describe(), nil
}

func (m *match) describe() string {
	s := fmt.Sprintf("%s %s %s", m.doc, m.route.Method, m.route.Path)
	if id := m.route.Operation.OperationID; id != "" {
		s += " (" + id + ")"
	}
	return s
}

// ValidateRequest checks req, with body as its body, against the document
// that describes it. req and req.Body are not read or modified: the request is
// cloned with body. It returns an error wrapping ErrNotInContract when no
// document describes the path, one wrapping ErrUndeclaredOperation when the
// method is not declared for a described path, and otherwise kin-openapi's
// validation error, or nil.
func (v *Validator) ValidateRequest(req *http.Request, body []byte) error {
	m, err := v.find(req)
	if err != nil {
		return err
	}
	return v.validateRequest(req, body, m)
}

func (v *Validator) validateRequest(req *http.Request, body []byte, m *match) error {
	input := &openapi3filter.RequestValidationInput{
		Request:    withBody(req, body),
		PathParams: m.params,
		Route:      m.route,
		Options:    v.options,
	}
	return openapi3filter.ValidateRequest(req.Context(), input)
}

// ValidateResponse checks a response (status, header, body) to req against the
// document that describes req. It returns nil for responses carrying
// FaultHeader and for statuses the operation does not declare, an error
// wrapping ErrNotInContract or ErrUndeclaredOperation when req routes
// nowhere, and otherwise kin-openapi's validation error, or nil.
func (v *Validator) ValidateResponse(req *http.Request, status int, header http.Header, body []byte) error {
	m, err := v.find(req)
	if err != nil {
		return err
	}
	return v.validateResponse(req, status, header, body, m)
}

func (v *Validator) validateResponse(req *http.Request, status int, header http.Header, body []byte, m *match) error {
	if header.Get(FaultHeader) != "" {
		return nil
	}
	if header == nil {
		header = http.Header{}
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request:    withBody(req, nil),
			PathParams: m.params,
			Route:      m.route,
			Options:    v.options,
		},
		Status:  status,
		Header:  header,
		Options: v.options,
	}
	input.SetBodyBytes(body)
	return openapi3filter.ValidateResponse(req.Context(), input)
}

// withBody returns a shallow clone of req whose body reads body.
func withBody(req *http.Request, body []byte) *http.Request {
	r := req.Clone(req.Context())
	if len(body) == 0 {
		r.Body = http.NoBody
		r.GetBody = func() (io.ReadCloser, error) { return http.NoBody, nil }
		r.ContentLength = 0
		return r
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	r.ContentLength = int64(len(body))
	return r
}

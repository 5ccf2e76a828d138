package debitura

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// ErrRedirectRefused matches the error of a call whose answer was a redirect the SDK does not
// follow: one that leaves the origin (scheme, host and port) of the request, which includes
// every https → http downgrade. Test for it with errors.Is; the error's text names the origin the
// redirect pointed to, never its path or query. Such a call is not retried.
var ErrRedirectRefused = errors.New("debitura: redirect refused")

// maxRedirects is how many redirects one attempt follows, as net/http's default policy.
const maxRedirects = 10

// redirectError is the error CheckRedirect returns for a redirect to another origin. It names
// the target origin only: a path or query could carry data the caller never meant to print.
type redirectError struct {
	from, to string // origins
}

func (e *redirectError) Error() string {
	return "redirect to another origin refused: " + e.to + " (the SDK follows redirects within " + e.from + " only)"
}

func (e *redirectError) Is(target error) bool { return target == ErrRedirectRefused }

// redirectStopped wraps every other error of the redirect policy (too many redirects, the
// caller's own CheckRedirect), so the retry engine knows the call must end: the same request
// would be redirected the same way again.
type redirectStopped struct{ err error }

func (e *redirectStopped) Error() string { return e.err.Error() }
func (e *redirectStopped) Unwrap() error { return e.err }

// redirectPolicy is the CheckRedirect of the SDK's *http.Client. A redirect is followed only
// when it stays on the origin of the first request of the chain (so https → http never is), at
// most maxRedirects times in a row whatever the caller's CheckRedirect says, and only when the
// caller's own CheckRedirect (prev, may be nil) allows it too. A refused cross-origin redirect
// sends nothing to the other origin: neither the XApiKey header nor the request body.
func redirectPolicy(prev func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) > 0 && !sameOrigin(req.URL, via[0].URL) {
			return &redirectError{from: origin(via[0].URL), to: origin(req.URL)}
		}
		if len(via) >= maxRedirects {
			return &redirectStopped{errors.New("stopped after 10 redirects")}
		}
		if prev != nil {
			if err := prev(req, via); err != nil {
				if err == http.ErrUseLastResponse { // net/http compares it with ==, so pass it on as is
					return err
				}
				return &redirectStopped{err}
			}
		}
		return nil
	}
}

// origin returns u's scheme://host[:port], lower-cased, with the scheme's default port left
// out: never user info, path, query or fragment.
func origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if p := u.Port(); p != "" && p != defaultPort(scheme) {
		host += ":" + p
	}
	return scheme + "://" + host
}

func defaultPort(scheme string) string {
	switch scheme {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}

// sameOrigin reports whether a and b have the same scheme, host and port.
func sameOrigin(a, b *url.URL) bool { return origin(a) == origin(b) }

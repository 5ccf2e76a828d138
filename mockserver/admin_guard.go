package mockserver

import (
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// The /__mock/ control API can wipe the state and read every webhook payload, so a web page the
// developer happens to visit must not be able to reach it. Three checks run before any control
// route (see "Control API over HTTP" in the package doc):
//
//   - Host (DNS rebinding): a page on attacker.example whose name later resolves to 127.0.0.1
//     sends "Host: attacker.example". Only loopback names, the public URL's host and the hosts
//     of [WithAdminHosts] are accepted.
//   - Origin (cross-site requests): a browser names the page's origin; only the mock's own origin
//     (the Host of the request, or the public URL's) is accepted. No Origin (Go, curl) is fine.
//   - Content-Type (no "simple" requests): POST, PUT, PATCH and DELETE need application/json, which
//     a browser can only send cross-site after a CORS preflight that the mock never answers.

// WithAdminHosts adds host names (or host:port; the port is ignored) that the /__mock/ control
// routes accept in the Host header, besides the loopback names (localhost, 127.0.0.0/8, ::1) and
// the host of the public URL ([WithPublicURL]). Use it when the mock is reached under another
// name, for example a container name ("mock:8080"). A request whose Host is none of these gets
// 403, which stops DNS-rebinding pages from reaching the control API.
func WithAdminHosts(hosts ...string) Option {
	return func(s *settings) {
		for _, h := range hosts {
			if h = hostOnly(h); h != "" {
				s.adminHosts = append(s.adminHosts, h)
			}
		}
	}
}

// guardAdmin answers a control request that fails the Host, Origin or Content-Type check and
// reports whether it did.
func (b *Backend) guardAdmin(w http.ResponseWriter, r *http.Request) bool {
	if !b.adminHostAllowed(r.Host) {
		writeAPIError(w, http.StatusForbidden, "Forbidden", "The mock control API answers only requests addressed to a loopback name, the public URL's host or a host given with WithAdminHosts (-admin-hosts); this Host header is none of them.")
		return true
	}
	if origin, ok := r.Header["Origin"]; ok && !b.adminOriginAllowed(r.Host, strings.Join(origin, ",")) {
		writeAPIError(w, http.StatusForbidden, "Forbidden", "The mock control API refuses cross-origin requests from browsers (the Origin header names another site).")
		return true
	}
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			writeAPIError(w, http.StatusUnsupportedMediaType, "UnsupportedMediaType", "Control calls that change state need Content-Type: application/json (also without a body).")
			return true
		}
	}
	return false
}

// adminHostAllowed reports whether the Host header names the mock: a loopback name, the public
// URL's host or one of [WithAdminHosts].
func (b *Backend) adminHostAllowed(hostport string) bool {
	h := hostOnly(hostport)
	if h == "" {
		return false
	}
	if h == "localhost" {
		return true
	}
	if ip := net.ParseIP(h); ip != nil && ip.IsLoopback() {
		return true
	}
	if pub := publicHost(b.PublicURL()); pub != "" && h == pub {
		return true
	}
	for _, a := range b.set.adminHosts {
		if h == a {
			return true
		}
	}
	return false
}

// adminOriginAllowed reports whether a browser's Origin header names the mock itself: the origin
// whose host:port is the request's Host, or the public URL's origin. "null" (sandboxed or file
// pages) and anything unparsable are foreign.
func (b *Backend) adminOriginAllowed(host, origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" {
		return false
	}
	if strings.EqualFold(u.Host, host) {
		return true
	}
	if pub, err := url.Parse(b.PublicURL()); err == nil && pub.Host != "" {
		return strings.EqualFold(u.Scheme, pub.Scheme) && strings.EqualFold(u.Host, pub.Host)
	}
	return false
}

// hostOnly returns the lower-cased host of "host", "host:port", "[v6]" or "[v6]:port", without a
// trailing dot.
func hostOnly(hostport string) string {
	h := strings.TrimSpace(hostport)
	if hh, _, err := net.SplitHostPort(h); err == nil {
		h = hh
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	return strings.TrimSuffix(strings.ToLower(h), ".")
}

// publicHost is the host of the configured public URL ("" when none is set).
func publicHost(public string) string {
	if public == "" {
		return ""
	}
	u, err := url.Parse(public)
	if err != nil {
		return ""
	}
	return hostOnly(u.Host)
}

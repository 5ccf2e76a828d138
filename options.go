package debitura

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Option configures a Client. Options are applied in order, so the last of two conflicting
// options wins; an invalid value makes New return an error.
type Option func(*config) error

// config is the settled configuration of a Client.
type config struct {
	apiKey     string
	baseURL    string
	userAgent  string
	baseClient *http.Client // the caller's client; copied, never mutated
}

func defaultConfig() config {
	return config{baseURL: ProductionBaseURL}
}

// httpClient returns the *http.Client the SDK owns: a copy of the caller's, or a new one.
func (cfg *config) httpClient() *http.Client {
	if cfg.baseClient == nil {
		return &http.Client{}
	}
	cp := *cfg.baseClient
	return &cp
}

// WithBaseURL points the Client at another environment or at the mock server. The URL must use
// https, except on a loopback host (127.0.0.0/8, ::1, localhost), where http is allowed.
func WithBaseURL(raw string) Option {
	return func(cfg *config) error {
		if _, err := parseBaseURL(raw); err != nil {
			return err
		}
		cfg.baseURL = raw
		return nil
	}
}

// WithHTTPClient sets the *http.Client whose transport, timeout, cookie jar and redirect policy
// the SDK uses. The SDK keeps a copy and never changes the caller's client.
func WithHTTPClient(hc *http.Client) Option {
	return func(cfg *config) error {
		if hc == nil {
			return errors.New("WithHTTPClient: client is nil")
		}
		cfg.baseClient = hc
		return nil
	}
}

func parseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("base URL %q is not an absolute URL", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("base URL %q must not carry user info, a query or a fragment", u.Redacted())
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return nil, fmt.Errorf("base URL %q must use https (http is allowed on loopback only)", raw)
		}
	default:
		return nil, fmt.Errorf("base URL %q must use https", raw)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return u, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

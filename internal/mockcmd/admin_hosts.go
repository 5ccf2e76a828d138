package mockcmd

import (
	"net"
	"strings"
)

// listenHosts are the Host names under which the mock is reached at its -addr, for the /__mock/
// Host check (loopback names and the -public-url host are always accepted): the -addr host, or,
// for an unspecified one (":8080", "0.0.0.0:8080"), the addresses of this machine's interfaces.
func listenHosts(addr string) []string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil
	}
	if ip := net.ParseIP(host); host != "" && (ip == nil || !ip.IsUnspecified()) {
		return []string{host}
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []string
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			out = append(out, n.IP.String())
		}
	}
	return out
}

// splitHosts splits a comma-separated -admin-hosts value, dropping empty entries.
func splitHosts(v string) []string {
	var out []string
	for _, h := range strings.Split(v, ",") {
		if h = strings.TrimSpace(h); h != "" {
			out = append(out, h)
		}
	}
	return out
}

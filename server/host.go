package server

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"unicode/utf8"
)

// A web page can reach a serve bound to loopback through DNS rebinding: its
// own name, made to resolve to 127.0.0.1, reads the reports as a same-origin
// page. The browser still sends that name in the Host header, so serve
// answers only the names it knows: the address it listens on, localhost,
// and those given in [Config.AllowedHosts].

// hostGuard says which Host headers a server answers.
type hostGuard struct {
	// names are allowed host names, any port, lower case.
	names map[string]bool
	// withPort are allowed host:port pairs, lower case.
	withPort map[string]bool
	// anyIP allows every IP literal: the server listens on all addresses.
	anyIP bool
}

// CheckAllowedHost reports whether h can be one of [Config.AllowedHosts]: a
// host name or IP address, with a port or without. Its error says what is
// wrong with h.
func CheckAllowedHost(h string) error {
	_, _, err := normalizeHost(h)
	return err
}

// normalizeHost splits a Host header or an allowed host into its lower-case
// name, without brackets or trailing dot, and its port ("" when none).
func normalizeHost(h string) (name, port string, err error) {
	h = strings.ToLower(strings.TrimSpace(h))
	if h == "" {
		return "", "", errors.New("empty host")
	}
	name = h
	if n, p, err := net.SplitHostPort(h); err == nil {
		name, port = n, p
		if port == "" {
			return "", "", errors.New("empty port")
		}
		for _, c := range port {
			if c < '0' || c > '9' {
				return "", "", errors.New("port is not a number")
			}
		}
	} else if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		name = h[1 : len(h)-1]
	} else if strings.Count(h, ":") == 1 {
		return "", "", errors.New("bad port")
	} else if strings.Contains(h, ":") {
		return "", "", errors.New("an IPv6 address needs brackets: [::1]")
	}
	name = strings.TrimSuffix(name, ".")
	if name == "" {
		return "", "", errors.New("empty host")
	}
	if strings.Contains(name, ":") {
		// Only an IPv6 literal holds a colon.
		if net.ParseIP(name) == nil {
			return "", "", errors.New("not a host name or IP address")
		}
		return name, port, nil
	}
	for _, c := range name {
		ok := c == '-' || c == '.' || c == '_' || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
		if !ok {
			return "", "", fmt.Errorf("%q is not allowed in a host name", c)
		}
	}
	return name, port, nil
}

// newHostGuard allows localhost, the names in allowed, and the address of
// listen when it is not nil.
func newHostGuard(allowed []string, listen net.Addr) (*hostGuard, error) {
	g := &hostGuard{names: map[string]bool{"localhost": true}, withPort: map[string]bool{}}
	for _, a := range allowed {
		name, port, err := normalizeHost(a)
		if err != nil {
			return nil, fmt.Errorf("allowed host %q: %v", a, err)
		}
		if port == "" {
			g.names[name] = true
		} else {
			g.withPort[net.JoinHostPort(name, port)] = true
		}
	}
	if ta, ok := listen.(*net.TCPAddr); ok {
		if ta.IP == nil || ta.IP.IsUnspecified() {
			g.anyIP = true
		} else {
			g.names[strings.ToLower(ta.IP.String())] = true
		}
	}
	return g, nil
}

// allows reports whether a request with Host header h may be answered.
func (g *hostGuard) allows(h string) bool {
	name, port, err := normalizeHost(h)
	if err != nil {
		return false
	}
	if g.names[name] || (port != "" && g.withPort[net.JoinHostPort(name, port)]) {
		return true
	}
	if ip := net.ParseIP(name); ip != nil {
		// An IP literal cannot be rebound: the page that sends it was
		// loaded from that address. Normalise its spelling (::0001).
		return g.anyIP || g.names[ip.String()]
	}
	return false
}

// wrap refuses the requests whose Host header names another host with 421
// Misdirected Request and a line of text; it never echoes the header.
func (g *hostGuard) wrap(s *Server, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !g.allows(r.Host) {
			// The handler quotes what it logs; keep it short.
			s.log.Warn("request for an unknown host refused", "host", clip(r.Host, 100), "path", clip(r.URL.Path, 200))
			httpError(w, http.StatusMisdirectedRequest, "This factorgate serve does not answer for that host name (serve --allowed-host adds one).")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// clip is s cut to n bytes at most, on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

package server

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// getHost asks url with the Host header host, and returns the status and body.
func getHost(t *testing.T, url, host string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServeHostHeader: serve answers the Host names of its listen address,
// localhost and --allowed-host, in any case and with any port (or the one
// given), and refuses every other name with 421, so that a page of another
// site that rebinds its name to loopback cannot read the reports.
func TestServeHostHeader(t *testing.T) {
	type probe struct {
		host string
		ok   bool
	}
	cases := []struct {
		name    string
		network string
		listen  string
		allowed []string
		probes  []probe
	}{
		{"IPv4 loopback", "tcp4", "127.0.0.1:0", []string{"Audit.Example.COM", "proxy.example:8443"}, []probe{
			{"127.0.0.1", true},
			{"127.0.0.1:{port}", true},
			{"localhost:{port}", true},
			{"LOCALHOST", true},
			{"localhost.", true},
			{"audit.example.com", true},
			{"AUDIT.EXAMPLE.COM:{port}", true},
			{"proxy.example:8443", true},
			{"PROXY.example:8443", true},
			{"proxy.example", false},
			{"proxy.example:8444", false},
			{"evil.example", false},
			{"evil.example:{port}", false},
			{"localhost.evil.example", false},
			{"audit.example.com.evil.example", false},
			{"127.0.0.2:{port}", false},
			{"[::1]:{port}", false},
			{"127.0.0.1:x", false},
		}},
		{"IPv6 loopback", "tcp6", "[::1]:0", nil, []probe{
			{"[::1]:{port}", true},
			{"[::1]", true},
			{"[0:0:0:0:0:0:0:1]:{port}", true},
			{"localhost:{port}", true},
			{"127.0.0.1:{port}", false},
			{"evil.example:{port}", false},
			{"::1", false}, // an IPv6 literal in Host needs its brackets
		}},
		{"all addresses", "tcp4", "0.0.0.0:0", []string{"audit.example.com"}, []probe{
			{"127.0.0.1:{port}", true},
			{"10.1.2.3:{port}", true},
			{"audit.example.com", true},
			{"evil.example:{port}", false},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ln, err := net.Listen(c.network, c.listen)
			if err != nil {
				t.Skipf("cannot listen on %s: %v", c.listen, err)
			}
			_, port, _ := net.SplitHostPort(ln.Addr().String())
			srv, err := New(Config{Audit: newBlockingAudit().audit, Store: newStore(t), Schedule: "@every 1h", AllowedHosts: c.allowed})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- srv.Run(ctx, ln) }()
			defer func() { cancel(); <-done }()
			addr := ln.Addr().String()
			if strings.HasPrefix(addr, "0.0.0.0:") {
				addr = "127.0.0.1:" + port
			}
			for _, p := range c.probes {
				host := strings.ReplaceAll(p.host, "{port}", port)
				code, body := getHost(t, "http://"+addr+"/healthz", host)
				switch {
				case p.ok && code != http.StatusOK:
					t.Errorf("Host %q: %d %q, want 200", host, code, body)
				case !p.ok && p.host != "" && (code != http.StatusMisdirectedRequest || !strings.Contains(body, "does not answer for that host name")):
					t.Errorf("Host %q: %d %q, want 421 with a line saying why", host, code, body)
				case !p.ok && host != "" && strings.Contains(body, host):
					t.Errorf("Host %q: the refusal echoes the header: %q", host, body)
				}
			}
		})
	}
}

// TestHandlerHostHeader: the handler mounted elsewhere answers localhost and
// the allowed hosts only.
func TestHandlerHostHeader(t *testing.T) {
	srv, err := New(Config{Audit: newBlockingAudit().audit, Store: newStore(t), Schedule: "@every 1h", AllowedHosts: []string{"audit.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]int{"": 421, "localhost": 200, "Audit.example.com:80": 200, "evil.example": 421} {
		req, _ := http.NewRequest("GET", "http://localhost/healthz", nil)
		req.Host = host
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("Host %q: %d, want %d", host, rec.Code, want)
		}
	}
}

func TestCheckAllowedHost(t *testing.T) {
	for _, h := range []string{"audit.example.com", "Audit.Example.com:8443", "10.0.0.5", "[::1]:8080", "[fe80::1]", "localhost."} {
		if err := CheckAllowedHost(h); err != nil {
			t.Errorf("CheckAllowedHost(%q) = %v, want nil", h, err)
		}
	}
	for _, h := range []string{"", "http://audit.example.com", "audit.example.com/", "a b", "host:port", "host:", "::1:80x", "::1", "*.example.com"} {
		if err := CheckAllowedHost(h); err == nil {
			t.Errorf("CheckAllowedHost(%q) = nil, want an error", h)
		}
	}
	if _, err := New(Config{Audit: newBlockingAudit().audit, Store: newStore(t), Schedule: "@daily", AllowedHosts: []string{"a/b"}}); err == nil || !strings.Contains(err.Error(), `allowed host "a/b"`) {
		t.Errorf("New with a bad allowed host: %v", err)
	}
}

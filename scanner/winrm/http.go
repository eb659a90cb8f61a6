package winrm

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/Azure/go-ntlmssp"
	"github.com/factorgate/factorgate/scanner/transport"
	"github.com/masterzen/winrm"
	"github.com/masterzen/winrm/soap"
)

// maxHeaderBytes caps the response headers of one WinRM answer.
const maxHeaderBytes = 64 << 10

// httpTransporter is the [winrm.Transporter] of a session: it posts the
// SOAP messages of the winrm client over its own http.Transport, so that
//
//   - under auth ntlm no request ever carries a Basic header: when the
//     host's 401 offers only Basic, the request fails with
//     [ErrBasicRefused] instead of sending the password;
//   - under auth basic over plain HTTP, Basic is sent only when the
//     inventory allows it (winrm.allow_basic_over_http);
//   - no response body is read beyond bodyLimit bytes, whatever the host
//     sends: the body is cut as it is read, before it is held in memory;
//   - redirects are not followed (WinRM never redirects; a redirect would
//     carry the credentials elsewhere).
type httpTransporter struct {
	auth                string // "basic" or "ntlm"
	user, password      string
	allowBasicPlainHTTP bool
	dial                func(network, addr string) (net.Conn, error)
	bodyLimit           int64

	url    string
	client *http.Client
}

// Transport builds the HTTP transport for endpoint; the winrm client calls
// it once.
func (t *httpTransporter) Transport(endpoint *winrm.Endpoint) error {
	scheme := "http"
	if endpoint.HTTPS {
		scheme = "https"
	}
	t.url = scheme + "://" + net.JoinHostPort(endpoint.Host, strconv.Itoa(endpoint.Port)) + "/wsman"
	tlsConf := &tls.Config{
		InsecureSkipVerify: endpoint.Insecure, //nolint:gosec // the inventory's explicit insecure: true, logged at dial
		ServerName:         endpoint.TLSServerName,
		MinVersion:         tls.VersionTLS12,
	}
	if len(endpoint.CACert) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(endpoint.CACert) {
			return errors.New("unable to read certificates")
		}
		tlsConf.RootCAs = pool
	}
	ht := &http.Transport{
		// Hosts are dialled directly, as over SSH: an HTTP(S)_PROXY of the
		// environment would see the WinRM traffic, credentials included.
		Proxy: nil,
		DialContext: func(_ context.Context, network, addr string) (net.Conn, error) {
			return t.dial(network, addr)
		},
		TLSClientConfig:        tlsConf,
		ResponseHeaderTimeout:  endpoint.Timeout,
		MaxResponseHeaderBytes: maxHeaderBytes,
		// A compressed body would be inflated past what the host sent.
		DisableCompression: true,
	}
	var rt http.RoundTripper = &wireGuard{next: ht, auth: t.auth, plainHTTP: !endpoint.HTTPS, allowBasicPlainHTTP: t.allowBasicPlainHTTP, bodyLimit: t.bodyLimit}
	if t.auth == "ntlm" {
		// The negotiator turns the request's Basic credentials into an
		// NTLM exchange; the guard below it stops the Basic fallback it
		// makes when the host offers nothing else.
		rt = ntlmssp.Negotiator{RoundTripper: rt}
	}
	t.client = &http.Client{
		Transport: rt,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return errors.New("the host answered with a redirect: WinRM does not redirect")
		},
	}
	return nil
}

// Post sends one SOAP message and returns the answer's body. Its errors
// read as the winrm client's own ("http error 401: ..."), which
// [winrmSession.explain] turns into one line.
func (t *httpTransporter) Post(_ *winrm.Client, request *soap.SoapMessage) (string, error) {
	req, err := http.NewRequest(http.MethodPost, t.url, strings.NewReader(request.String()))
	if err != nil {
		return "", fmt.Errorf("impossible to create http request %w", err)
	}
	req.Header.Set("Content-Type", "application/soap+xml;charset=UTF-8")
	// Under ntlm these credentials never reach the wire as Basic: the
	// negotiator takes them for the NTLM exchange and the guard refuses
	// any request that would still carry them.
	req.SetBasicAuth(t.user, t.password)
	resp, err := t.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("unknown error %w", err)
	}
	defer resp.Body.Close()
	if !strings.Contains(resp.Header.Get("Content-Type"), "application/soap+xml") {
		return "", fmt.Errorf("http response error: %d - invalid content type", resp.StatusCode)
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return "", fmt.Errorf("http response error: %d - error while reading request body %w", resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("http error %d: %s", resp.StatusCode, buf.String())
	}
	return buf.String(), nil
}

// wireGuard is the last step before the wire: it refuses requests that
// would send the password in a Basic header where that is not allowed,
// and caps every response body.
type wireGuard struct {
	next                http.RoundTripper
	auth                string
	plainHTTP           bool
	allowBasicPlainHTTP bool
	bodyLimit           int64
}

func (g *wireGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	for _, v := range req.Header.Values("Authorization") {
		scheme, _, _ := strings.Cut(strings.TrimSpace(v), " ")
		if !strings.EqualFold(scheme, "Basic") {
			continue
		}
		switch {
		case g.auth != "basic":
			closeBody(req)
			return nil, fmt.Errorf("%w: the host offers only Basic authentication, which would send the password in clear; auth is %s (enable Negotiate on the host's WinRM service, or set winrm.auth: basic over HTTPS)", ErrBasicRefused, g.auth)
		case g.plainHTTP && !g.allowBasicPlainHTTP:
			closeBody(req)
			return nil, fmt.Errorf("%w: Basic authentication over plain HTTP sends the password in clear (use https: true, or set winrm.allow_basic_over_http: true)", ErrBasicRefused)
		}
	}
	resp, err := g.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &cappedBody{rc: resp.Body, left: g.bodyLimit, limit: g.bodyLimit}
	return resp, nil
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// cappedBody reads a response body up to limit bytes; past it, reads fail
// with [transport.ErrOutputTooLarge] and the rest is never read: Close
// drops the connection rather than drain it.
type cappedBody struct {
	rc    io.ReadCloser
	left  int64
	limit int64
	over  bool
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.over {
		return 0, b.err()
	}
	if b.left <= 0 {
		// One more byte tells a body of exactly limit bytes from a longer one.
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			b.over = true
			return 0, b.err()
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *cappedBody) err() error {
	return fmt.Errorf("%w: the HTTP response body is larger than %d bytes", transport.ErrOutputTooLarge, b.limit)
}

func (b *cappedBody) Close() error { return b.rc.Close() }

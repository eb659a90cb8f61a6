// Package winrm is the scanner's WinRM transport, on
// github.com/masterzen/winrm: HTTPS verified against the system roots or a
// CA file by default, Basic or NTLM authentication, passwords from an
// [inventory.Secret], every request bounded by a deadline, output capped.
//
// # The password on the wire
//
// The winrm client's SOAP messages travel over this package's own HTTP
// transport. Under auth ntlm no request carries a Basic header, whatever
// the host's 401 offers: a host that offers only Basic gets
// [ErrBasicRefused], not the password. Basic over plain HTTP is refused
// too, unless the inventory sets winrm.allow_basic_over_http.
//
// # Output cap
//
// Every HTTP response body is cut while it is read, at the output cap
// ([transport.Config.MaxOutput]) plus one SOAP envelope, so that a host
// answering with an endless body costs the scanner no more than that; the
// decoded stdout of a command is capped at MaxOutput as well.
//
// Build a dialer for a scan with [New]; the scanner engine does.
package winrm

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/factorgate/factorgate/scanner/inventory"
	"github.com/factorgate/factorgate/scanner/transport"
	"github.com/masterzen/winrm"
)

// Default WinRM ports, as Windows listens on them.
const (
	PortHTTPS = 5986
	PortHTTP  = 5985
)

// ErrAuth is returned (wrapped) by the WinRM transport when the host
// refuses the credentials (HTTP 401).
var ErrAuth = errors.New("authentication refused")

// ErrBasicRefused is returned (wrapped) when sending the password in a
// Basic header would expose it: under auth ntlm (the host offers only
// Basic), or over plain HTTP without winrm.allow_basic_over_http.
var ErrBasicRefused = errors.New("basic authentication refused")

// ErrCertificate is returned (wrapped) by the WinRM transport when the
// host's TLS certificate cannot be verified.
var ErrCertificate = errors.New("TLS certificate not trusted")

// dialer is the transport's [transport.Dialer].
type dialer struct{ cfg transport.Config }

// New returns the WinRM dialer of one scan.
func New(cfg transport.Config) (transport.Dialer, error) {
	return &dialer{cfg: cfg.WithDefaults()}, nil
}

// Port is the port h is dialled on: the inventory's, else 5986 over HTTPS
// and 5985 over HTTP.
func (d *dialer) Port(h inventory.Host) int {
	if h.Port != 0 {
		return h.Port
	}
	if h.WinRM.HTTPS {
		return PortHTTPS
	}
	return PortHTTP
}

// Dial connects to h; see [Dial].
func (d *dialer) Dial(ctx context.Context, h inventory.Host) (transport.Session, error) {
	return Dial(ctx, h, d.cfg)
}

// Dial connects to h over WinRM.
//
// It opens and deletes one shell before it returns, so that an unreachable
// host, an untrusted certificate or refused credentials surface here, as a
// one-line error naming the host, and not in the middle of a probe.
func Dial(ctx context.Context, h inventory.Host, opts transport.Config) (transport.Session, error) {
	opts = opts.WithDefaults()
	cfg := h.WinRM
	tm := opts.Timeouts
	port := (&dialer{}).Port(h)
	label := "winrm " + net.JoinHostPort(h.Address, strconv.Itoa(port))

	auth := strings.ToLower(cfg.Auth)
	if auth == "" {
		auth = "basic"
	}
	if auth != "basic" && auth != "ntlm" {
		return nil, fmt.Errorf("%s: auth %q is not supported (want basic or ntlm)", label, cfg.Auth)
	}
	if auth == "basic" && !cfg.HTTPS && !cfg.AllowBasicOverHTTP {
		return nil, fmt.Errorf("%s: %w: Basic authentication over plain HTTP would send the password in clear (%s: set winrm.https: true, or winrm.auth: ntlm, or accept the risk with winrm.allow_basic_over_http: true)",
			label, ErrBasicRefused, h.Place())
	}
	if cfg.User == "" {
		return nil, fmt.Errorf("%s: no user set (winrm.user)", label)
	}
	password, where, err := cfg.Password.Read("winrm", h.Place(), opts.Env, nil)
	if errors.Is(err, inventory.ErrNoSecret) {
		err = errors.New("no password_env or password_file set for the winrm user")
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", label, err)
	}

	var caPEM []byte
	switch {
	case !cfg.HTTPS:
		slog.Warn("winrm over plain HTTP: traffic is not protected by TLS", "host", h.Name, "address", h.Address, "port", port)
	case cfg.Insecure:
		slog.Warn("winrm certificate verification disabled (insecure): the host's identity is not checked", "host", h.Name, "address", h.Address, "port", port)
	case cfg.CAFile != "":
		caPEM, err = os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("%s: ca_file: %w", label, err)
		}
		if !x509.NewCertPool().AppendCertsFromPEM(caPEM) {
			return nil, fmt.Errorf("%s: ca_file %s holds no PEM certificate", label, cfg.CAFile)
		}
	}

	conns := &winrmConns{dialer: net.Dialer{Timeout: tm.Dial, KeepAlive: 30 * time.Second}}
	// The server holds a Receive for at most the operation timeout when a
	// command is silent; the endpoint waits a little longer for the answer.
	op := min(tm.Probe, 20*time.Second)
	op = max(op, time.Second)
	params := *winrm.DefaultParameters
	params.Timeout = fmt.Sprintf("PT%dS", int(op.Seconds()))
	params.Dial = conns.dial
	// Every response body, SOAP envelope included, is capped: the output
	// cap plus one envelope of the size the client asks the host to keep to.
	bodyLimit := opts.MaxOutput + int64(params.EnvelopeSize)
	params.TransportDecorator = func() winrm.Transporter {
		return &httpTransporter{auth: auth, user: cfg.User, password: password, allowBasicPlainHTTP: cfg.AllowBasicOverHTTP, dial: conns.dial, bodyLimit: bodyLimit}
	}
	endpoint := winrm.NewEndpoint(h.Address, port, cfg.HTTPS, cfg.HTTPS && cfg.Insecure, caPEM, nil, nil, op+10*time.Second)
	client, err := winrm.NewClientWithParameters(endpoint, cfg.User, password, &params)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", label, err)
	}
	ws := &winrmSession{client: client, conns: conns, label: label, user: cfg.User, where: where, auth: auth, maxOutput: opts.MaxOutput, probe: tm.Probe}

	// Open and delete one shell: this proves TLS and the credentials.
	hctx, cancel := context.WithTimeout(ctx, tm.Dial+tm.Handshake)
	defer cancel()
	err = transport.Retry(hctx, opts.Retries, opts.RetryBackoff, opts.OnRetry, func() error {
		return ws.do(hctx, func() error {
			shell, err := client.CreateShell()
			if err != nil {
				return err
			}
			return shell.Close()
		})
	})
	if err != nil {
		ws.Close()
		return nil, err
	}
	return ws, nil
}

// winrmSession runs commands over one WinRM client. It owns the client's
// connections, so that a deadline or Close can end them.
type winrmSession struct {
	client    *winrm.Client
	conns     *winrmConns
	label     string
	user      string
	where     string
	auth      string
	maxOutput int64
	probe     time.Duration
}

// Auth is how the session logged in: "basic" or "ntlm".
func (s *winrmSession) Auth() string { return s.auth }

// Banner is "": WinRM has no identification string.
func (s *winrmSession) Banner() string { return "" }

// Run runs cmd in a new shell and returns what it printed. Stdout beyond
// the output cap ends the command with an error wrapping [transport.ErrOutputTooLarge].
func (s *winrmSession) Run(ctx context.Context, cmd string) (transport.Output, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	ctx, cancelT := context.WithTimeout(ctx, s.probe)
	defer cancelT()
	stdout := &capBuffer{max: s.maxOutput, full: func() { cancel(transport.ErrOutputTooLarge) }}
	stderr := &capBuffer{max: s.maxOutput}
	var code int
	err := s.do(ctx, func() error {
		var err error
		code, err = s.client.RunWithContext(ctx, cmd, stdout, stderr)
		return err
	})
	if stdout.over {
		return transport.Output{}, fmt.Errorf("%s: %w: more than %d bytes of output", s.label, transport.ErrOutputTooLarge, s.maxOutput)
	}
	if err != nil {
		return transport.Output{}, err
	}
	return transport.Output{Stdout: stdout.bytes(), Stderr: stderr.bytes(), ExitCode: code}, nil
}

// do runs fn, which does WinRM requests that take no context, and returns
// when it ends or ctx does. When ctx ends first, the session's connections
// are closed so that fn ends too; the session is unusable afterwards.
func (s *winrmSession) do(ctx context.Context, fn func() error) error {
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		if err != nil {
			return s.explain(err)
		}
		return nil
	case <-ctx.Done():
		s.conns.close()
		<-done
		cause := context.Cause(ctx)
		if errors.Is(cause, context.DeadlineExceeded) {
			return fmt.Errorf("%s: no answer in time: %w", s.label, cause)
		}
		return fmt.Errorf("%s: %w", s.label, cause)
	}
}

// Close ends the session's connections.
func (s *winrmSession) Close() error {
	s.conns.close()
	return nil
}

var (
	winrm401     = regexp.MustCompile(`^http (response )?error:? 401\b`)
	soapFaultRE  = regexp.MustCompile(`(?s)<[A-Za-z0-9]*:?Text[^>]*>(.*?)</`)
	httpStatusRE = regexp.MustCompile(`^http (response )?error:? (\d{3})\b`)
)

// explain turns an error of the winrm client into one line naming the host
// and what to do; the client's error stays in the chain for errors.Is.
func (s *winrmSession) explain(err error) error {
	msg := err.Error()
	if errors.Is(err, transport.ErrOutputTooLarge) || errors.Is(err, ErrBasicRefused) {
		return &winrmError{msg: s.label + ": " + transport.OneLine(wrapperOf(err, transport.ErrOutputTooLarge, ErrBasicRefused)), errs: []error{err}}
	}
	if winrm401.MatchString(msg) {
		return fmt.Errorf("%s: %w for user %s (check %s)", s.label, ErrAuth, s.user, s.where)
	}
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	if errors.As(err, &unknownCA) || errors.As(err, &hostErr) || errors.As(err, &invalid) || errors.As(err, &verify) {
		return &winrmError{
			msg: fmt.Sprintf("%s: %v: the server certificate failed verification: %s (set winrm.ca_file to the CA that signed it; insecure: true skips the check)",
				s.label, ErrCertificate, transport.OneLine(innermost(err))),
			errs: []error{ErrCertificate, err},
		}
	}
	if m := httpStatusRE.FindStringSubmatch(msg); m != nil {
		reason := ""
		if f := soapFaultRE.FindStringSubmatch(msg); f != nil {
			reason = ": " + transport.OneLine(f[1])
		}
		return &winrmError{msg: fmt.Sprintf("%s: HTTP %s%s", s.label, m[2], reason), errs: []error{err}}
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		msg = ue.Err.Error()
	}
	return &winrmError{msg: s.label + ": " + transport.OneLine(msg), errs: []error{err}}
}

// winrmError is a one-line message over the errors it explains.
type winrmError struct {
	msg  string
	errs []error
}

func (e *winrmError) Error() string   { return e.msg }
func (e *winrmError) Unwrap() []error { return e.errs }

// wrapperOf is the text of the error in err's chain that wraps one of
// sentinels directly: the one that says what happened, without the winrm
// client's prefixes.
func wrapperOf(err error, sentinels ...error) string {
	for e := err; e != nil; e = errors.Unwrap(e) {
		for _, s := range sentinels {
			if errors.Unwrap(e) == s {
				return e.Error()
			}
		}
	}
	return err.Error()
}

// innermost is the text of the deepest wrapped error.
func innermost(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}

// capBuffer keeps up to max bytes and drops the rest, calling full once
// when it overflows. It never fails a write: the winrm client feeds it from
// a pipe that must keep draining.
type capBuffer struct {
	mu   sync.Mutex
	buf  []byte
	max  int64
	over bool
	full func()
}

func (b *capBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	room := b.max - int64(len(b.buf))
	if int64(len(p)) > room {
		b.buf = append(b.buf, p[:max(room, 0)]...)
		if !b.over {
			b.over = true
			if b.full != nil {
				b.full()
			}
		}
		return len(p), nil
	}
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *capBuffer) bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]byte(nil), b.buf...)
}

// winrmConns dials and remembers the connections of one session, so that
// they can all be closed at once; once closed it dials no more.
type winrmConns struct {
	dialer net.Dialer
	mu     sync.Mutex
	ctx    context.Context
	cancel context.CancelFunc
	conns  map[net.Conn]struct{}
	closed bool
}

func (c *winrmConns) dial(network, addr string) (net.Conn, error) {
	c.mu.Lock()
	closed := c.closed
	if c.ctx == nil {
		c.ctx, c.cancel = context.WithCancel(context.Background())
	}
	c.mu.Unlock()
	if closed {
		return nil, errors.New("session closed")
	}
	conn, err := c.dialer.DialContext(c.ctx, network, addr)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		conn.Close()
		return nil, errors.New("session closed")
	}
	if c.conns == nil {
		c.conns = map[net.Conn]struct{}{}
	}
	tc := &trackedConn{Conn: conn, owner: c}
	c.conns[tc] = struct{}{}
	return tc, nil
}

func (c *winrmConns) close() {
	c.mu.Lock()
	c.closed = true
	if c.cancel != nil {
		c.cancel() // ends a dial in progress
	}
	conns := c.conns
	c.conns = nil
	c.mu.Unlock()
	for conn := range conns {
		conn.(*trackedConn).Conn.Close()
	}
}

type trackedConn struct {
	net.Conn
	owner *winrmConns
}

func (t *trackedConn) Close() error {
	t.owner.mu.Lock()
	delete(t.owner.conns, t)
	t.owner.mu.Unlock()
	return t.Conn.Close()
}

// Package transport is what the scanner's transports share: the small
// interface each one implements ([Dialer], [Session]), their common
// settings ([Config], [Timeouts]) and plumbing (an output cap, dial retries
// with backoff, one-line errors, typed deadline errors).
//
// # Adding a transport
//
// A transport is a package under scanner/ with a constructor of type
// [Factory]; the scanner engine registers it with one line in its table of
// transports, keyed by the inventory's transport name.
package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/factorgate/factorgate/scanner/inventory"
)

// Ways a transport logged in, as Facts' host.auth reports them.
const (
	AuthPublicKey = "publickey" // a key file
	AuthAgent     = "agent"     // a key held by ssh-agent
	AuthPassword  = "password"  // a password (or keyboard-interactive answered with it)
	AuthNone      = "none"      // the server asked for nothing
)

// Output is what one remote command returned.
type Output struct {
	Stdout   []byte
	Stderr   []byte
	ExitCode int
}

// Session runs fixed commands on one connected host. Implementations cap
// how much output a host may send ([Config.MaxOutput]).
type Session interface {
	// Run runs one fixed command and returns what it printed.
	Run(ctx context.Context, cmd string) (Output, error)
	// Auth is how the session logged in (AuthPublicKey, AuthPassword, ...,
	// or the transport's own word, such as "basic" or "ntlm").
	Auth() string
	// Banner is the server's identification string, "" when the protocol
	// has none.
	Banner() string
	Close() error
}

// Dialer connects to hosts over one transport.
type Dialer interface {
	// Port is the port Dial will connect to for h, its configuration and
	// the transport's defaults applied.
	Port(h inventory.Host) int
	// Dial connects and logs in to h. Every step has its deadline from
	// [Config.Timeouts]; ctx bounds the whole.
	Dial(ctx context.Context, h inventory.Host) (Session, error)
}

// Factory builds a transport's [Dialer] for one scan.
type Factory func(cfg Config) (Dialer, error)

type admitKey struct{}

// WithAdmission returns ctx carrying admit, the gate a transport passes
// through once the host has answered (over SSH: its identification string
// has arrived), before the work that costs CPU and memory: key exchange,
// login, the probe. Waiting for a host that never answers then holds no
// working slot. admit returns the function that ends the admission; it may
// be called more than once.
func WithAdmission(ctx context.Context, admit func(context.Context) (release func(), err error)) context.Context {
	return context.WithValue(ctx, admitKey{}, admit)
}

// Admit passes the gate ctx carries (see [WithAdmission]); with none, it
// admits at once. A session keeps the release and calls it when it closes.
func Admit(ctx context.Context) (release func(), err error) {
	if admit, ok := ctx.Value(admitKey{}).(func(context.Context) (func(), error)); ok {
		return admit(ctx)
	}
	return func() {}, nil
}

// Timeouts bound every network step of a host's scan.
type Timeouts struct {
	Dial      time.Duration
	Handshake time.Duration
	Probe     time.Duration
	Host      time.Duration
}

// DefaultTimeouts are used for zero fields of [Timeouts].
var DefaultTimeouts = Timeouts{Dial: 10 * time.Second, Handshake: 15 * time.Second, Probe: 60 * time.Second, Host: 120 * time.Second}

// WithDefaults fills the zero fields of t from [DefaultTimeouts].
func (t Timeouts) WithDefaults() Timeouts {
	if t.Dial <= 0 {
		t.Dial = DefaultTimeouts.Dial
	}
	if t.Handshake <= 0 {
		t.Handshake = DefaultTimeouts.Handshake
	}
	if t.Probe <= 0 {
		t.Probe = DefaultTimeouts.Probe
	}
	if t.Host <= 0 {
		t.Host = DefaultTimeouts.Host
	}
	return t
}

// DefaultMaxOutput is the default cap on what one host may send in answer to
// a probe.
const DefaultMaxOutput = 4 << 20

// DefaultRetryBackoff is the first wait before a transient dial error is
// retried; it doubles on each retry.
const DefaultRetryBackoff = 250 * time.Millisecond

// Config is what every transport of one scan is built with.
type Config struct {
	Timeouts Timeouts
	// MaxOutput caps the bytes one host may send in answer to a command.
	MaxOutput int64
	// Retries is how many times a transient dial error (refused, reset,
	// timed out) is retried; RetryBackoff is the first wait between tries.
	Retries      int
	RetryBackoff time.Duration
	// Env looks up environment variables (passwords, SSH_AUTH_SOCK).
	Env func(string) string

	// SSH only: AcceptNew records first-seen host keys in known_hosts, like
	// OpenSSH's StrictHostKeyChecking=accept-new; NoSSHConfig ignores
	// ~/.ssh/config; SSHConfigPath overrides its path.
	AcceptNew     bool
	NoSSHConfig   bool
	SSHConfigPath string

	// OnRetry, when set, is told of each retried dial (tests).
	OnRetry func(attempt int, err error)
}

// WithDefaults fills the zero fields of c.
func (c Config) WithDefaults() Config {
	c.Timeouts = c.Timeouts.WithDefaults()
	if c.MaxOutput <= 0 {
		c.MaxOutput = DefaultMaxOutput
	}
	if c.RetryBackoff <= 0 {
		c.RetryBackoff = DefaultRetryBackoff
	}
	if c.Env == nil {
		c.Env = os.Getenv
	}
	return c
}

// ErrOutputTooLarge is returned (wrapped) by a [Session] whose host sent more
// than Config.MaxOutput bytes in answer to a command.
var ErrOutputTooLarge = errors.New("output too large")

// DeadlineError is returned (wrapped) when a network step found no answer
// within its deadline. Its message says which step and how long it waited.
type DeadlineError struct {
	// Step names what waited, e.g. "probe", "dial 10.0.0.5:22".
	Step  string
	Limit time.Duration
	// Hint, when set, is added in parentheses.
	Hint string
}

func (e *DeadlineError) Error() string {
	msg := fmt.Sprintf("%s: no answer within %s", e.Step, e.Limit)
	if e.Hint != "" {
		msg += " (" + e.Hint + ")"
	}
	return msg
}

// Limit is a byte budget shared by a command's stdout and stderr. Writers
// from [Limit.Writer] fail with [ErrOutputTooLarge] once it is spent, and
// Over is closed at that moment so that the caller can end the command.
type Limit struct {
	mu   sync.Mutex
	left int64
	over chan struct{}
	once sync.Once
}

// NewLimit returns a budget of n bytes.
func NewLimit(n int64) *Limit { return &Limit{left: n, over: make(chan struct{})} }

// Over is closed when a write went past the budget.
func (l *Limit) Over() <-chan struct{} { return l.over }

// Exceeded reports whether a write went past the budget.
func (l *Limit) Exceeded() bool {
	select {
	case <-l.over:
		return true
	default:
		return false
	}
}

// Writer returns a writer to w that spends the budget.
func (l *Limit) Writer(w io.Writer) io.Writer { return &limitWriter{l: l, w: w} }

type limitWriter struct {
	l *Limit
	w io.Writer
}

func (w *limitWriter) Write(p []byte) (int, error) {
	w.l.mu.Lock()
	defer w.l.mu.Unlock()
	if int64(len(p)) > w.l.left {
		w.l.once.Do(func() { close(w.l.over) })
		return 0, ErrOutputTooLarge
	}
	w.l.left -= int64(len(p))
	return w.w.Write(p)
}

// Retry calls try until it succeeds, ctx ends, it fails with an error that
// is not transient, or it has been retried retries times; the wait between
// tries starts at backoff and doubles. onRetry, when set, is told of each
// retry. The last error is returned.
func Retry(ctx context.Context, retries int, backoff time.Duration, onRetry func(int, error), try func() error) error {
	wait := backoff
	for attempt := 0; ; attempt++ {
		err := try()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil || attempt >= retries || !TransientDialError(err) {
			return err
		}
		if onRetry != nil {
			onRetry(attempt+1, err)
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return err
		}
		wait *= 2
	}
}

// TransientDialError reports whether err is worth a retry: refused, reset,
// unreachable or timed out.
func TransientDialError(err error) bool {
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EHOSTUNREACH) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// UnwrapOpError drops net.OpError's "dial tcp a->b:" prefix, which the
// caller's message already says.
func UnwrapOpError(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		var se *os.SyscallError
		if errors.As(oe.Err, &se) {
			return se.Err
		}
		return oe.Err
	}
	return err
}

// OneLine folds whitespace runs, newlines included, into single spaces.
func OneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// Truncate cuts s to n bytes, marking the cut with "...".
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

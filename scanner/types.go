package scanner

import (
	"context"
	"time"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/scanner/inventory"
	"github.com/factorgate/factorgate/scanner/transport"
)

// CloudView supplies the cloud's own facts (HSS API) for scanned hosts.
// The scanner calls Fill once per host after its probe, whether the host was
// reachable or not.
type CloudView interface {
	Fill(ctx context.Context, h inventory.Host, f *contract.Facts) error
}

// Timeouts bound every network step of a host's scan.
type Timeouts = transport.Timeouts

// DefaultTimeouts are used for zero fields of [Timeouts].
var DefaultTimeouts = transport.DefaultTimeouts

// DefaultMaxOutput is the default of Options.MaxOutput.
const DefaultMaxOutput = transport.DefaultMaxOutput

// DefaultConcurrency is how many hosts are scanned at once when
// Options.Concurrency is zero.
const DefaultConcurrency = 32

// DialConcurrencyFactor is how many hosts may be logging in per probe slot
// when Options.DialConcurrency is zero.
const DialConcurrencyFactor = 16

// Options tunes a scan. The zero value scans with sensible defaults.
//
// Implemented in scan.go: Scan(ctx, hosts, opts, emit) runs the probes of
// every host with at most Concurrency at once and calls emit, never
// concurrently, with each host's Facts as it finishes.
type Options struct {
	// Concurrency bounds the hosts worked on at once: from the moment a
	// host answers (transport.Admit) through key exchange, login and the
	// probe.
	Concurrency int
	// DialConcurrency bounds the hosts being dialled or waited for at once
	// (zero: DialConcurrencyFactor times Concurrency). Waiting for a host
	// that never answers costs no CPU, so it takes no working slot: dead
	// hosts then cost the fleet about one handshake timeout in all rather
	// than one per slot.
	DialConcurrency int
	Timeouts        Timeouts
	// AcceptNew records first-seen host keys in known_hosts, like OpenSSH's
	// StrictHostKeyChecking=accept-new; a changed key is still refused.
	AcceptNew bool
	// NoSSHConfig ignores ~/.ssh/config; SSHConfigPath overrides its path.
	NoSSHConfig   bool
	SSHConfigPath string
	// MaxOutput caps the bytes one host may send in answer to a probe.
	MaxOutput int64
	// Retries is how many times a transient dial error (refused, reset,
	// timed out) is retried; RetryBackoff is the first wait between tries
	// (doubling; zero means DefaultRetryBackoff).
	Retries      int
	RetryBackoff time.Duration
	// Cloud fills the cloud's facts; nil scans without them.
	Cloud CloudView
	// Progress is told of each host's start and end (the CLI draws its
	// progress bar from it); nil tells nobody.
	Progress ProgressSink
	// Env looks up environment variables (passwords); nil uses os.Getenv.
	Env func(string) string
}

// ProgressSink receives scan progress.
type ProgressSink interface {
	Start(total int)
	Done(host string, ok bool)
	Finish()
}

// silentProgress is the sink when Options.Progress is nil.
type silentProgress struct{}

func (silentProgress) Start(int)         {}
func (silentProgress) Done(string, bool) {}
func (silentProgress) Finish()           {}

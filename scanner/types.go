package scanner

import (
	"context"
	"time"

	"github.com/factorgate/factorgate/contract"
)

// Transports a host can be reached over.
const (
	TransportSSH   = "ssh"
	TransportWinRM = "winrm"
)

// Inventory is a loaded fleet file: defaults already merged into each host.
type Inventory struct {
	// Path is the file the inventory came from.
	Path string
	// Digest is the hex SHA-256 of the file's bytes.
	Digest string
	Hosts  []Host
}

// Host is one server of the inventory, with its defaults merged in.
type Host struct {
	Name      string
	Address   string
	Port      int
	Transport string // TransportSSH or TransportWinRM
	OS        string // "linux", "windows" or "" (linux over ssh)
	Labels    map[string]string
	HSSHostID string
	// Line is the inventory line the host was declared on, for errors.
	Line  int
	SSH   SSHConfig
	WinRM WinRMConfig
}

// SSHConfig is how to reach a host over SSH. Secrets are never held here:
// only where to find them.
type SSHConfig struct {
	User         string
	IdentityFile string
	KnownHosts   string
	PasswordEnv  string
	PasswordFile string
	// Agent uses ssh-agent from SSH_AUTH_SOCK.
	Agent     bool
	ProxyJump string
	// NoSudo (sudo: false in the inventory) keeps the probe from trying
	// `sudo -n sshd -T` when plain `sshd -T` fails; by default it tries,
	// where sudo allows it without a password. See [LinuxProbeFor].
	NoSudo bool
}

// WinRMConfig is how to reach a host over WinRM.
type WinRMConfig struct {
	User         string
	HTTPS        bool
	Insecure     bool
	CAFile       string
	Auth         string // "basic" or "ntlm"
	PasswordEnv  string
	PasswordFile string
}

// Output is what one remote command returned.
type Output struct {
	Stdout   []byte
	Stderr   []byte
	ExitCode int
}

// Session runs fixed commands on one connected host. Implementations cap
// how much output a host may send.
type Session interface {
	Run(ctx context.Context, cmd string) (Output, error)
	Close() error
}

// CloudView supplies the cloud's own facts (HSS API) for scanned hosts.
// The scanner calls Fill once per host after its probe, whether the host was
// reachable or not.
type CloudView interface {
	Fill(ctx context.Context, h Host, f *contract.Facts) error
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

// DefaultConcurrency is how many hosts are scanned at once when
// Options.Concurrency is zero.
const DefaultConcurrency = 32

// Options tunes a scan. The zero value scans with sensible defaults.
//
// Implemented in scan.go: Scan(ctx, hosts, opts, emit) runs the probes of
// every host with at most Concurrency at once and calls emit, never
// concurrently, with each host's Facts as it finishes.
type Options struct {
	Concurrency int
	Timeouts    Timeouts
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
	// Progress receives a progress bar; nil or a non-terminal is silent.
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

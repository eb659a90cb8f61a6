package inventory

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strconv"
	"strings"
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
	// Digest is the hex SHA-256 of the file's bytes (for an Ansible
	// inventory, with the group_vars/ and host_vars/ files it read).
	Digest string
	Hosts  []Host
	// Discover, when set, asks for more hosts from the cloud: they join
	// the fleet through [Inventory.Resolve].
	Discover *Discover
	// Warnings name the hosts left out of the fleet and why (an Ansible
	// host reached by a connection factorgate does not speak, an HSS host
	// with no address), one line each, for the user to see.
	Warnings []string

	defaults defaults // what discovered hosts are given
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

// Place names where h was declared, for errors that must not repeat an
// inventory value: "inventory line 12", or "the inventory" for a host built
// in code.
func (h Host) Place() string {
	if h.Line > 0 {
		return "inventory line " + strconv.Itoa(h.Line)
	}
	return "the inventory"
}

// Windows reports whether h is probed as a Windows host: over WinRM, or
// declared `os: windows` (OpenSSH for Windows).
func (h Host) Windows() bool { return h.OS == "windows" || h.Transport == TransportWinRM }

// SSHConfig is how to reach a host over SSH. Secrets are never held here:
// only where to find them.
type SSHConfig struct {
	User         string
	IdentityFile string
	KnownHosts   string
	// Password is where the login password is kept, if any.
	Password Secret
	// Agent uses ssh-agent from SSH_AUTH_SOCK.
	Agent     bool
	ProxyJump string
	// NoSudo (sudo: false in the inventory) keeps the probe from trying
	// `sudo -n sshd -T` when plain `sshd -T` fails; by default it tries,
	// where sudo allows it without a password.
	NoSudo bool
}

// WinRMConfig is how to reach a host over WinRM.
type WinRMConfig struct {
	User     string
	HTTPS    bool
	Insecure bool
	CAFile   string
	Auth     string // "basic" or "ntlm"
	// AllowBasicOverHTTP lets Basic authentication send the password over
	// plain HTTP (https: false), where anyone on the path can read it;
	// without it such a host is refused.
	AllowBasicOverHTTP bool
	// Password is where the login password is kept.
	Password Secret
}

// Secret says where a password is kept: the environment variable named Env,
// or the file at File; never the value itself. It is read with [Secret.Read],
// the one place a password is taken from.
type Secret struct {
	Env  string
	File string
}

// IsZero reports whether no secret is named.
func (s Secret) IsZero() bool { return s.Env == "" && s.File == "" }

// LogValue keeps the variable's name and the file's path out of logs:
// either may be a password pasted by mistake.
func (s Secret) LogValue() slog.Value { return slog.StringValue("secret(redacted)") }

// ErrNoSecret is returned by [Secret.Read] when no secret is named.
var ErrNoSecret = errors.New("no password_env or password_file set")

// Read returns the password. block is the inventory block that names the
// secret ("ssh" or "winrm") and place the host's [Host.Place], for errors;
// env looks up variables (nil: os.Getenv); expand, when set, resolves ~ and
// tokens in the file's path. where says which inventory field the password
// came from, for messages about a refused login. Neither the password nor
// the variable's name or the file's path appears in an error.
func (s Secret) Read(block, place string, env func(string) string, expand func(string) string) (password, where string, err error) {
	if env == nil {
		env = os.Getenv
	}
	switch {
	case s.Env != "":
		where = fmt.Sprintf("the variable named by %s.password_env (%s)", block, place)
		password = env(s.Env)
		if password == "" {
			return "", where, fmt.Errorf("%s is unset or empty", where)
		}
	case s.File != "":
		where = fmt.Sprintf("the file named by %s.password_file (%s)", block, place)
		path := s.File
		if expand != nil {
			path = expand(path)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return "", where, fmt.Errorf("%s.password_file (%s): %w", block, place, pathless(err))
		}
		password = strings.TrimRight(string(b), "\r\n")
		if password == "" {
			return "", where, fmt.Errorf("%s is empty", where)
		}
	default:
		return "", "", ErrNoSecret
	}
	return password, where, nil
}

// pathless drops the path from a file error.
func pathless(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("cannot %s: %w", pe.Op, pe.Err)
	}
	return err
}

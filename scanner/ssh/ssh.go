// Package ssh is the scanner's SSH transport, on golang.org/x/crypto/ssh:
// keys from files or ssh-agent, passwords from a [inventory.Secret], host
// keys checked against known_hosts (a changed key refuses the host:
// [HostKeyError]), ~/.ssh/config honoured, ProxyJump through
// DialContext, every step bounded by a deadline, output capped.
//
// Build a dialer for a scan with [New]; the scanner engine does.
package ssh

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kevinburke/ssh_config"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/factorgate/factorgate/scanner/inventory"
	"github.com/factorgate/factorgate/scanner/transport"
)

// Ways of logging in, as Facts' host.auth reports them.
const (
	AuthPublicKey = transport.AuthPublicKey
	AuthAgent     = transport.AuthAgent
	AuthPassword  = transport.AuthPassword
	AuthNone      = transport.AuthNone
)

// runtime is what the hosts of one scan share: the configuration with
// defaults filled, the parsed ~/.ssh/config and the known_hosts files. It
// is the transport's [transport.Dialer].
type runtime struct {
	opts      transport.Config
	home      string
	localUser string
	sshConfig *ssh_config.Config // nil: none
	keys      *hostKeyDB

	keyMu    sync.Mutex
	keyCache map[string]parsedKey
}

// New returns the SSH dialer of one scan. It reads ~/.ssh/config (unless
// cfg.NoSSHConfig) once; a config that cannot be parsed is an error.
func New(cfg transport.Config) (transport.Dialer, error) { return newRuntime(cfg) }

func newRuntime(opts transport.Config) (*runtime, error) {
	rt := &runtime{opts: opts.WithDefaults()}
	rt.home, _ = os.UserHomeDir()
	if u, err := user.Current(); err == nil {
		rt.localUser = u.Username
	} else {
		rt.localUser = rt.opts.Env("USER")
	}
	if !opts.NoSSHConfig {
		p := opts.SSHConfigPath
		if p == "" && rt.home != "" {
			p = filepath.Join(rt.home, ".ssh", "config")
		}
		if p != "" {
			data, err := os.ReadFile(p)
			switch {
			case err == nil:
				cfg, err := ssh_config.DecodeBytes(data)
				if err != nil {
					return nil, fmt.Errorf("ssh config %s: %w", p, err)
				}
				rt.sshConfig = cfg
			case errors.Is(err, os.ErrNotExist) && opts.SSHConfigPath == "":
				// No ~/.ssh/config: nothing to honour.
			default:
				return nil, fmt.Errorf("ssh config: %w", err)
			}
		}
	}
	rt.keys = newHostKeyDB(opts.AcceptNew)
	return rt, nil
}

// cfg returns the ~/.ssh/config value of key for alias, or "".
func (rt *runtime) cfg(alias, key string) string {
	if rt.sshConfig == nil {
		return ""
	}
	v, err := rt.sshConfig.Get(alias, key)
	if err != nil {
		return ""
	}
	return v
}

func (rt *runtime) cfgAll(alias, key string) []string {
	if rt.sshConfig == nil {
		return nil
	}
	v, _ := rt.sshConfig.GetAll(alias, key)
	return v
}

// expand resolves ~ and the %d %h %r %u %% tokens OpenSSH allows in paths.
func (rt *runtime) expand(p, host, remoteUser string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		p = rt.home + p[1:]
	}
	if !strings.Contains(p, "%") {
		return p
	}
	r := strings.NewReplacer("%%", "%", "%d", rt.home, "%h", host, "%r", remoteUser, "%u", rt.localUser)
	return r.Replace(p)
}

// sshTarget is a host's SSH settings with ~/.ssh/config applied.
type sshTarget struct {
	hostname      string // what is dialled and looked up in known_hosts
	port          int
	user          string
	identityFiles []string
	knownHosts    string
	hashKnown     bool
	proxyJump     string
}

func (t sshTarget) addr() string { return net.JoinHostPort(t.hostname, strconv.Itoa(t.port)) }

// resolveSSH merges ~/.ssh/config into h's settings. What the inventory sets
// wins; ~/.ssh/config fills what it leaves unset (HostName, Port, User,
// IdentityFile, ProxyJump, UserKnownHostsFile, HashKnownHosts), matched on
// the inventory address as the Host alias; then OpenSSH's defaults apply.
func (rt *runtime) resolveSSH(h inventory.Host) sshTarget {
	alias := h.Address
	t := sshTarget{hostname: alias, port: h.Port, user: h.SSH.User, proxyJump: h.SSH.ProxyJump}
	if hn := rt.cfg(alias, "HostName"); hn != "" {
		t.hostname = strings.ReplaceAll(hn, "%h", alias)
	}
	if t.port == 0 {
		t.port, _ = strconv.Atoi(rt.cfg(alias, "Port"))
		if t.port <= 0 || t.port > 65535 {
			t.port = 22
		}
	}
	if t.user == "" {
		t.user = rt.cfg(alias, "User")
	}
	if t.user == "" {
		t.user = rt.localUser
	}
	if t.proxyJump == "" {
		t.proxyJump = rt.cfg(alias, "ProxyJump")
	}
	if strings.EqualFold(t.proxyJump, "none") {
		t.proxyJump = ""
	}
	if h.SSH.IdentityFile != "" {
		t.identityFiles = []string{rt.expand(h.SSH.IdentityFile, t.hostname, t.user)}
	} else if files := rt.cfgAll(alias, "IdentityFile"); len(files) > 0 {
		for _, f := range files {
			t.identityFiles = append(t.identityFiles, rt.expand(strings.Trim(f, `"`), t.hostname, t.user))
		}
	} else if rt.home != "" {
		for _, n := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
			t.identityFiles = append(t.identityFiles, filepath.Join(rt.home, ".ssh", n))
		}
	}
	t.knownHosts = h.SSH.KnownHosts
	if t.knownHosts == "" {
		if f := strings.Fields(rt.cfg(alias, "UserKnownHostsFile")); len(f) > 0 {
			t.knownHosts = f[0]
		}
	}
	if t.knownHosts == "" {
		t.knownHosts = "~/.ssh/known_hosts"
	}
	t.knownHosts = rt.expand(t.knownHosts, t.hostname, t.user)
	t.hashKnown = strings.EqualFold(rt.cfg(alias, "HashKnownHosts"), "yes")
	return t
}

// authRecorder remembers the last way of logging in the client tried; once
// the handshake succeeds, that is the one that worked.
type authRecorder struct{ v atomic.Value }

func (r *authRecorder) set(m string) { r.v.Store(m) }
func (r *authRecorder) get() string {
	if s, ok := r.v.Load().(string); ok {
		return s
	}
	return AuthNone
}

// recSigner records its method when asked to sign, and keeps the
// algorithm negotiation of the signer it wraps (RSA keys need rsa-sha2-*).
type recSigner struct {
	ssh.AlgorithmSigner
	algs   []string
	rec    *authRecorder
	method string
}

func (s *recSigner) Sign(r io.Reader, data []byte) (*ssh.Signature, error) {
	s.rec.set(s.method)
	return s.AlgorithmSigner.Sign(r, data)
}

func (s *recSigner) SignWithAlgorithm(r io.Reader, data []byte, alg string) (*ssh.Signature, error) {
	s.rec.set(s.method)
	return s.AlgorithmSigner.SignWithAlgorithm(r, data, alg)
}

func (s *recSigner) Algorithms() []string { return s.algs }

type plainRecSigner struct {
	ssh.Signer
	rec    *authRecorder
	method string
}

func (s *plainRecSigner) Sign(r io.Reader, data []byte) (*ssh.Signature, error) {
	s.rec.set(s.method)
	return s.Signer.Sign(r, data)
}

func wrapSigner(s ssh.Signer, rec *authRecorder, method string) ssh.Signer {
	as, ok := s.(ssh.AlgorithmSigner)
	if !ok {
		return &plainRecSigner{Signer: s, rec: rec, method: method}
	}
	algs := keyAlgorithms(s.PublicKey().Type())
	if ms, ok := s.(ssh.MultiAlgorithmSigner); ok {
		algs = ms.Algorithms()
	}
	return &recSigner{AlgorithmSigner: as, algs: algs, rec: rec, method: method}
}

// credentials are the secrets and keys one host's login may use. They are
// never logged.
type credentials struct {
	signers  []ssh.Signer // key files first, then the agent's
	password *string
	closers  []io.Closer
}

// LogValue keeps secrets out of logs.
func (c *credentials) LogValue() slog.Value { return slog.StringValue("credentials(redacted)") }

// String keeps secrets out of formatted messages.
func (c *credentials) String() string { return "credentials(redacted)" }

func (c *credentials) close() {
	for _, cl := range c.closers {
		cl.Close()
	}
}

// keyFile reads and parses a private key file once per scan.
func (rt *runtime) keyFile(path string) (ssh.Signer, error) {
	rt.keyMu.Lock()
	defer rt.keyMu.Unlock()
	if k, ok := rt.keyCache[path]; ok {
		return k.s, k.err
	}
	data, err := os.ReadFile(path)
	var s ssh.Signer
	if err == nil {
		s, err = ssh.ParsePrivateKey(data)
	}
	if rt.keyCache == nil {
		rt.keyCache = map[string]parsedKey{}
	}
	rt.keyCache[path] = parsedKey{s, err}
	return s, err
}

type parsedKey struct {
	s   ssh.Signer
	err error
}

// credentials gathers the keys and password h may log in with: the
// identity files, ssh-agent (when agent: true, or when the inventory names
// no identity file and SSH_AUTH_SOCK is set), and a password from
// password_env or password_file. Never a literal.
func (rt *runtime) credentials(h inventory.Host, t sshTarget) (*credentials, error) {
	c := &credentials{}
	strict := h.SSH.IdentityFile != ""
	for _, p := range t.identityFiles {
		s, err := rt.keyFile(p)
		if err != nil && errors.Is(err, os.ErrNotExist) {
			if strict {
				return nil, fmt.Errorf("identity file: %w", err)
			}
			continue // ~/.ssh/config or default keys: absent ones are skipped, as OpenSSH does
		}
		var pm *ssh.PassphraseMissingError
		switch {
		case errors.As(err, &pm):
			if strict && !h.SSH.Agent {
				return nil, fmt.Errorf("identity file %s is protected by a passphrase: load it into ssh-agent (ssh-add) and set agent: true", p)
			}
			continue
		case err != nil:
			if strict {
				return nil, fmt.Errorf("identity file %s: %w", p, err)
			}
			continue
		}
		c.signers = append(c.signers, s)
	}
	sock := rt.opts.Env("SSH_AUTH_SOCK")
	if h.SSH.Agent && sock == "" {
		return nil, errors.New("agent: true but SSH_AUTH_SOCK is not set: start ssh-agent or name an identity_file")
	}
	if sock != "" && (h.SSH.Agent || h.SSH.IdentityFile == "") {
		conn, err := net.Dial("unix", sock)
		if err != nil {
			if h.SSH.Agent {
				return nil, fmt.Errorf("ssh-agent: %w", err)
			}
		} else {
			c.closers = append(c.closers, conn)
			ss, err := agent.NewClient(conn).Signers()
			if err != nil && h.SSH.Agent {
				c.close()
				return nil, fmt.Errorf("ssh-agent: %w", err)
			}
			c.signers = append(c.signers, ss...)
		}
	}
	if !h.SSH.Password.IsZero() {
		pw, _, err := h.SSH.Password.Read("ssh", h.Place(), rt.opts.Env, func(p string) string { return rt.expand(p, t.hostname, t.user) })
		if err != nil {
			c.close()
			return nil, err
		}
		c.password = &pw
	}
	if len(c.signers) == 0 && c.password == nil {
		c.close()
		return nil, errors.New("no credentials: set identity_file, agent: true (with SSH_AUTH_SOCK), password_env or password_file")
	}
	return c, nil
}

func (c *credentials) authMethods(rec *authRecorder) []ssh.AuthMethod {
	var methods []ssh.AuthMethod
	if len(c.signers) > 0 {
		var files, agents int
		wrapped := make([]ssh.Signer, len(c.signers))
		for i, s := range c.signers {
			m := AuthPublicKey
			if _, isAgent := s.PublicKey().(*agent.Key); isAgent {
				m = AuthAgent
				agents++
			} else {
				files++
			}
			wrapped[i] = wrapSigner(s, rec, m)
		}
		methods = append(methods, ssh.PublicKeys(wrapped...))
	}
	if c.password != nil {
		pw := *c.password
		methods = append(methods,
			ssh.PasswordCallback(func() (string, error) { rec.set(AuthPassword); return pw, nil }),
			ssh.KeyboardInteractive(func(_, _ string, questions []string, echos []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i, q := range questions {
					if echos[i] || !strings.Contains(strings.ToLower(q), "password") {
						return nil, fmt.Errorf("keyboard-interactive asks %q: only a password can be answered", q)
					}
					answers[i] = pw
				}
				rec.set(AuthPassword)
				return answers, nil
			}))
	}
	return methods
}

// sshSession is a [Session] over one SSH connection (and the jump hosts it
// runs through).
type sshSession struct {
	client    *ssh.Client
	auth      string
	banner    string
	maxOutput int64
}

// Banner is the server's identification string, e.g. "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3".
func (s *sshSession) Banner() string { return s.banner }

// Auth is how the scanner logged in: [AuthPublicKey], [AuthAgent], [AuthPassword] or [AuthNone].
func (s *sshSession) Auth() string { return s.auth }

// Close closes the connection and every jump host behind it.
func (s *sshSession) Close() error { return s.client.Close() }

// Run runs one fixed command and returns what it printed. Output beyond
// MaxOutput (stdout and stderr together) ends the command with
// [ErrOutputTooLarge]; ctx's end closes the connection.
func (s *sshSession) Run(ctx context.Context, cmd string) (transport.Output, error) {
	sess, err := s.client.NewSession()
	if err != nil {
		return transport.Output{}, fmt.Errorf("open session: %w", err)
	}
	defer sess.Close()
	budget := transport.NewLimit(s.maxOutput)
	var stdout, stderr bytes.Buffer
	sess.Stdout = budget.Writer(&stdout)
	sess.Stderr = budget.Writer(&stderr)
	if err := sess.Start(cmd); err != nil {
		return transport.Output{}, fmt.Errorf("start command: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- sess.Wait() }()
	select {
	case err = <-done:
	case <-budget.Over():
		s.client.Close()
		<-done
		return transport.Output{}, fmt.Errorf("the host sent more than %d bytes: %w", s.maxOutput, transport.ErrOutputTooLarge)
	case <-ctx.Done():
		s.client.Close()
		<-done
		return transport.Output{}, ctx.Err()
	}
	if budget.Exceeded() {
		return transport.Output{}, fmt.Errorf("the host sent more than %d bytes: %w", s.maxOutput, transport.ErrOutputTooLarge)
	}
	out := transport.Output{Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}
	var ee *ssh.ExitError
	var em *ssh.ExitMissingError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		out.ExitCode = ee.ExitStatus()
	case errors.As(err, &em):
		out.ExitCode = -1
	default:
		return out, err
	}
	return out, nil
}

// dialSSH connects and logs in to h, through its jump hosts if any. Every
// step has its deadline: each TCP dial (Timeouts.Dial, retried on transient
// errors), each handshake (Timeouts.Handshake); ctx bounds the whole.
// Port is the port h is dialled on: the inventory's, else ~/.ssh/config's,
// else 22.
func (rt *runtime) Port(h inventory.Host) int { return rt.resolveSSH(h).port }

// Dial connects and logs in to h; see [runtime.dialSSH].
func (rt *runtime) Dial(ctx context.Context, h inventory.Host) (transport.Session, error) {
	s, err := rt.dialSSH(ctx, h)
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (rt *runtime) dialSSH(ctx context.Context, h inventory.Host) (*sshSession, error) {
	t := rt.resolveSSH(h)
	creds, err := rt.credentials(h, t)
	if err != nil {
		return nil, err
	}
	defer creds.close() // the agent is only needed during the handshakes

	var hops []*ssh.Client
	closeHops := func() {
		for i := len(hops) - 1; i >= 0; i-- {
			hops[i].Close()
		}
	}
	var dial func(ctx context.Context, addr string) (net.Conn, error) = rt.dialTCP
	if t.proxyJump != "" {
		// Jump hosts log in with keys (files or agent) only: the target's
		// password is for the target, never offered to another server.
		jumpCreds := &credentials{signers: creds.signers}
		for _, spec := range strings.Split(t.proxyJump, ",") {
			ht, err := rt.jumpTarget(strings.TrimSpace(spec), t)
			if err != nil {
				closeHops()
				return nil, err
			}
			c, _, err := rt.connect(ctx, dial, ht, jumpCreds, len(hops) == 0)
			if err != nil {
				closeHops()
				return nil, fmt.Errorf("jump host %s: %w", spec, err)
			}
			hops = append(hops, c)
			hop := c
			dial = func(ctx context.Context, addr string) (net.Conn, error) {
				conn, err := hop.DialContext(ctx, "tcp", addr)
				if err != nil {
					return nil, fmt.Errorf("dial %s through %s: %w", addr, hop.RemoteAddr(), err)
				}
				return &hopConn{Conn: conn, hop: hop}, nil
			}
		}
	}
	client, auth, err := rt.connect(ctx, dial, t, creds, len(hops) == 0)
	if err != nil {
		closeHops()
		return nil, err
	}
	return &sshSession{client: client, auth: auth, banner: string(client.ServerVersion()), maxOutput: rt.opts.MaxOutput}, nil
}

// peekedConn is a connection whose first bytes were read ahead into r.
type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *peekedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// hopConn is a connection through a jump host: closing it closes the jump
// host's connection too, and so on down the chain.
type hopConn struct {
	net.Conn
	hop *ssh.Client
}

func (c *hopConn) Close() error {
	err := c.Conn.Close()
	c.hop.Close()
	return err
}

// jumpTarget resolves one ProxyJump hop, [user@]host[:port]. The hop's user
// is the one it names, else its ~/.ssh/config User, else the target's user.
// A hop logs in with keys only, never with the target's password.
func (rt *runtime) jumpTarget(spec string, target sshTarget) (sshTarget, error) {
	spec = strings.TrimPrefix(spec, "ssh://")
	u, hostport, hasUser := strings.Cut(spec, "@")
	if !hasUser {
		hostport, u = spec, ""
	}
	host, port := hostport, 0
	if hh, pp, err := net.SplitHostPort(hostport); err == nil {
		host = hh
		port, err = strconv.Atoi(pp)
		if err != nil || port <= 0 || port > 65535 {
			return sshTarget{}, fmt.Errorf("proxy_jump %q: bad port", spec)
		}
	}
	if inventory.ValidAddress(host) != nil {
		return sshTarget{}, fmt.Errorf("proxy_jump %q: bad host", spec)
	}
	ht := rt.resolveSSH(inventory.Host{Address: host, Port: port, SSH: inventory.SSHConfig{User: u, KnownHosts: target.knownHosts}})
	if u == "" && rt.cfg(host, "User") == "" {
		ht.user = target.user
	}
	ht.proxyJump = ""
	return ht, nil
}

// connect dials t with dial and logs in. With admit, once the server has
// sent its first bytes (its identification string) it passes the scan's
// gate (transport.Admit) before the key exchange: waiting for a server that
// never speaks takes no working slot.
func (rt *runtime) connect(ctx context.Context, dial func(context.Context, string) (net.Conn, error), t sshTarget, creds *credentials, admit bool) (*ssh.Client, string, error) {
	addr := t.addr()
	conn, err := dial(ctx, addr)
	if err != nil {
		return nil, "", err
	}
	rec := &authRecorder{}
	cfg := &ssh.ClientConfig{
		User:              t.user,
		Auth:              creds.authMethods(rec),
		HostKeyCallback:   rt.keys.callback(t.knownHosts, t.hashKnown),
		HostKeyAlgorithms: rt.keys.algorithms(t.knownHosts, addr),
	}
	var timedOut atomic.Bool
	timer := time.AfterFunc(rt.opts.Timeouts.Handshake, func() { timedOut.Store(true); conn.Close() })
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	handshakeErr := func(err error) error {
		conn.Close()
		var hk *HostKeyError
		switch {
		case errors.As(err, &hk):
			return hk
		case timedOut.Load():
			return &transport.DeadlineError{Step: "ssh handshake with " + addr, Limit: rt.opts.Timeouts.Handshake, Hint: "is an SSH server listening there?"}
		case ctx.Err() != nil:
			return fmt.Errorf("ssh handshake with %s: %w", addr, ctx.Err())
		case strings.Contains(err.Error(), "unable to authenticate"):
			return fmt.Errorf("ssh login to %s@%s refused: %s", t.user, addr, strings.TrimPrefix(err.Error(), "ssh: handshake failed: ssh: "))
		}
		return fmt.Errorf("ssh handshake with %s: %w", addr, err)
	}
	if admit {
		br := bufio.NewReaderSize(conn, 512)
		if _, err := br.Peek(1); err != nil {
			timer.Stop()
			return nil, "", handshakeErr(err)
		}
		timer.Stop()
		if _, err := transport.Admit(ctx); err != nil {
			conn.Close()
			return nil, "", err
		}
		conn = &peekedConn{Conn: conn, r: br}
		// The handshake's own deadline starts once admitted.
		timer = time.AfterFunc(rt.opts.Timeouts.Handshake, func() { timedOut.Store(true); conn.Close() })
	}
	c, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
	timer.Stop()
	if err != nil {
		return nil, "", handshakeErr(err)
	}
	if ctx.Err() != nil {
		c.Close()
		return nil, "", ctx.Err()
	}
	return ssh.NewClient(c, chans, reqs), rec.get(), nil
}

// dialTCP dials addr, retrying transient errors (refused, reset, dial
// timeout) Config.Retries times with a doubling backoff.
func (rt *runtime) dialTCP(ctx context.Context, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: rt.opts.Timeouts.Dial}
	var conn net.Conn
	onRetry := func(attempt int, err error) {
		slog.Debug("dial retry", "addr", addr, "attempt", attempt, "err", err)
		if rt.opts.OnRetry != nil {
			rt.opts.OnRetry(attempt, err)
		}
	}
	err := transport.Retry(ctx, rt.opts.Retries, rt.opts.RetryBackoff, onRetry, func() (err error) {
		conn, err = d.DialContext(ctx, "tcp", addr)
		return err
	})
	if err == nil {
		return conn, nil
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, ctx.Err())
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return nil, &transport.DeadlineError{Step: "dial " + addr, Limit: rt.opts.Timeouts.Dial}
	}
	return nil, fmt.Errorf("dial %s: %w", addr, transport.UnwrapOpError(err))
}

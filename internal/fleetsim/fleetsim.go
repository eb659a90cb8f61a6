// Package fleetsim runs a simulated fleet of Linux (and, through
// [Register], other) SSH hosts on loopback, for tests, `factorgate demo`
// and benchmarks.
//
// Each host listens on its own 127.0.0.1 port with its own ed25519 host
// key, sends the SSH banner of its [Profile] (OpenSSH 7.4 for CentOS 7,
// 9.2p1 for Debian 12, ...) and answers the exact [probe.Linux]
// command with output built from the probe outputs captured for each
// release; any other command gets "not found" and exit status 127.
//
// # Starting a fleet
//
// [Start] takes a [Config]: N hosts of a mix of every profile ([Mixed]), or
// an explicit list of [HostSpec]. The fleet logs clients in with a client
// key pair it generates (and, optionally, a given authorized key or a
// password); [Fleet.WriteInventory] writes an inventory in factorgate's
// format whose defaults point at that key and at a known_hosts file with
// every host's key, so `factorgate scan -i` works on it as on a real fleet.
//
// # Profiles
//
// [Profiles] lists every kind of host with the verdict the default policy
// bundle should reach about it ([Expectation]): eligible hosts, one
// profile for each reason a host can fail, and hosts that fail on the wire
// (refused login, silence, a stall mid-probe, garbage output).
package fleetsim

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
	"gopkg.in/yaml.v3"
)

// HostSpec names one host of a fleet and its profile.
type HostSpec struct {
	Name    string
	Profile string
}

// Config describes a fleet to start.
type Config struct {
	// N hosts of a mix of every prompt profile ([Mixed]), used when Hosts
	// is empty.
	N int
	// Hosts lists the hosts explicitly.
	Hosts []HostSpec
	// Dir receives the client key, known_hosts and inventory; "" makes a
	// temporary directory that Close removes.
	Dir string
	// User is the login name the hosts expect; "" means "factorgate".
	User string
	// AuthorizedKey, when set, is accepted as well as the generated key.
	AuthorizedKey ssh.PublicKey
	// Password, when set, is accepted for User as well.
	Password string
	// PasswordEnv, when set, is written into the inventory's ssh defaults
	// as password_env (the password itself never is).
	PasswordEnv string
}

// Host is one running simulated host.
type Host struct {
	Name    string
	Profile string
	Address string // always 127.0.0.1
	Port    int
	HostKey ssh.PublicKey
}

// Addr returns "127.0.0.1:PORT".
func (h Host) Addr() string { return net.JoinHostPort(h.Address, strconv.Itoa(h.Port)) }

// Fleet is a running simulated fleet.
type Fleet struct {
	hosts        []*simHost
	dir          string
	removeDir    bool
	user         string
	clientSigner ssh.Signer
	identity     string
	knownHosts   string
	passwordEnv  string

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// simHost is the server side of one host.
type simHost struct {
	Host
	profile Profile
	ln      net.Listener
	config  *ssh.ServerConfig
}

// Start starts every host of cfg on its own loopback port and writes the
// client key and known_hosts into cfg.Dir. Close stops the fleet.
func Start(ctx context.Context, cfg Config) (*Fleet, error) {
	specs := cfg.Hosts
	if len(specs) == 0 {
		specs = Mixed(cfg.N)
	}
	if len(specs) == 0 {
		return nil, errors.New("fleetsim: no hosts: set Config.N or Config.Hosts")
	}
	f := &Fleet{dir: cfg.Dir, user: cfg.User, passwordEnv: cfg.PasswordEnv}
	if f.user == "" {
		f.user = "factorgate"
	}
	if f.dir == "" {
		d, err := os.MkdirTemp("", "fleetsim-")
		if err != nil {
			return nil, fmt.Errorf("fleetsim: %w", err)
		}
		f.dir, f.removeDir = d, true
	}
	f.ctx, f.cancel = context.WithCancel(context.WithoutCancel(ctx))
	ok := false
	defer func() {
		if !ok {
			f.Close()
		}
	}()

	clientPub, clientPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("fleetsim: client key: %w", err)
	}
	if f.clientSigner, err = ssh.NewSignerFromKey(clientPriv); err != nil {
		return nil, fmt.Errorf("fleetsim: client key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(clientPriv, "factorgate fleetsim client")
	if err != nil {
		return nil, fmt.Errorf("fleetsim: client key: %w", err)
	}
	f.identity = filepath.Join(f.dir, "id_ed25519")
	if err := os.WriteFile(f.identity, pem.EncodeToMemory(block), 0o600); err != nil {
		return nil, fmt.Errorf("fleetsim: %w", err)
	}
	sshClientPub, err := ssh.NewPublicKey(clientPub)
	if err != nil {
		return nil, fmt.Errorf("fleetsim: client key: %w", err)
	}
	if err := os.WriteFile(f.identity+".pub", ssh.MarshalAuthorizedKey(sshClientPub), 0o644); err != nil {
		return nil, fmt.Errorf("fleetsim: %w", err)
	}
	authorized := map[string]bool{string(sshClientPub.Marshal()): true}
	if cfg.AuthorizedKey != nil {
		authorized[string(cfg.AuthorizedKey.Marshal())] = true
	}
	user, password := f.user, cfg.Password

	var known []byte
	seen := map[string]bool{}
	for _, spec := range specs {
		p, found := Lookup(spec.Profile)
		if !found {
			return nil, fmt.Errorf("fleetsim: host %q: no profile %q", spec.Name, spec.Profile)
		}
		if spec.Name == "" || seen[spec.Name] {
			return nil, fmt.Errorf("fleetsim: host name %q empty or repeated", spec.Name)
		}
		seen[spec.Name] = true
		_, hostPriv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("fleetsim: host key: %w", err)
		}
		signer, err := ssh.NewSignerFromKey(hostPriv)
		if err != nil {
			return nil, fmt.Errorf("fleetsim: host key: %w", err)
		}
		h := &simHost{profile: p}
		h.config = &ssh.ServerConfig{
			ServerVersion: p.Banner,
			PublicKeyCallback: func(c ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
				if p.Mode != RefuseAuth && c.User() == user && authorized[string(key.Marshal())] {
					return nil, nil
				}
				return nil, errors.New("key refused")
			},
		}
		if password != "" {
			h.config.PasswordCallback = func(c ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
				if p.Mode != RefuseAuth && c.User() == user && string(pw) == password {
					return nil, nil
				}
				return nil, errors.New("password refused")
			}
		}
		h.config.AddHostKey(signer)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("fleetsim: host %s: %w", spec.Name, err)
		}
		h.ln = ln
		h.Host = Host{Name: spec.Name, Profile: p.Name, Address: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, HostKey: signer.PublicKey()}
		f.hosts = append(f.hosts, h)
		known = append(known, knownhosts.Line([]string{knownhosts.Normalize(h.Addr())}, h.HostKey)...)
		known = append(known, '\n')
		f.wg.Add(1)
		go f.serve(h)
	}
	f.knownHosts = filepath.Join(f.dir, "known_hosts")
	if err := os.WriteFile(f.knownHosts, known, 0o644); err != nil {
		return nil, fmt.Errorf("fleetsim: %w", err)
	}
	ok = true
	return f, nil
}

// Hosts returns the running hosts, in the order of the configuration.
func (f *Fleet) Hosts() []Host {
	hs := make([]Host, len(f.hosts))
	for i, h := range f.hosts {
		hs[i] = h.Host
	}
	return hs
}

// User is the login name the hosts accept.
func (f *Fleet) User() string { return f.user }

// ClientSigner is the generated client key, for tests that dial directly.
func (f *Fleet) ClientSigner() ssh.Signer { return f.clientSigner }

// IdentityPath is the file holding the generated client private key
// (OpenSSH format, mode 0600).
func (f *Fleet) IdentityPath() string { return f.identity }

// KnownHostsPath is the known_hosts file listing every host's key as
// "[127.0.0.1]:PORT ssh-ed25519 ...".
func (f *Fleet) KnownHostsPath() string { return f.knownHosts }

// inventory is the YAML inventory the fleet writes.
type inventory struct {
	Defaults struct {
		SSH inventorySSH `yaml:"ssh"`
	} `yaml:"defaults"`
	Hosts []inventoryHost `yaml:"hosts"`
}

type inventorySSH struct {
	User         string `yaml:"user"`
	IdentityFile string `yaml:"identity_file"`
	KnownHosts   string `yaml:"known_hosts"`
	PasswordEnv  string `yaml:"password_env,omitempty"`
}

type inventoryHost struct {
	Name    string            `yaml:"name"`
	Address string            `yaml:"address"`
	Port    int               `yaml:"port"`
	OS      string            `yaml:"os,omitempty"`
	Labels  map[string]string `yaml:"labels"`
}

// WriteInventory writes a factorgate inventory of every host to path:
// defaults.ssh name the user, the client key and the known_hosts file;
// each host carries its port, os (windows profiles only) and a label
// profile: NAME.
func (f *Fleet) WriteInventory(path string) error {
	var inv inventory
	inv.Defaults.SSH = inventorySSH{User: f.user, IdentityFile: f.identity, KnownHosts: f.knownHosts, PasswordEnv: f.passwordEnv}
	for _, h := range f.hosts {
		ih := inventoryHost{Name: h.Name, Address: h.Address, Port: h.Port, Labels: map[string]string{"profile": h.Profile}}
		if h.profile.OS != "linux" {
			ih.OS = h.profile.OS
		}
		inv.Hosts = append(inv.Hosts, ih)
	}
	var buf bytes.Buffer
	buf.WriteString("# Simulated fleet written by fleetsim: every host listens on loopback.\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&inv); err != nil {
		return fmt.Errorf("fleetsim: inventory: %w", err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("fleetsim: %w", err)
	}
	return nil
}

// Close stops every host, waits for their connections to end and removes
// the directory Start made (a Config.Dir is left in place).
func (f *Fleet) Close() error {
	f.cancel()
	for _, h := range f.hosts {
		h.ln.Close()
	}
	f.wg.Wait()
	if f.removeDir {
		return os.RemoveAll(f.dir)
	}
	return nil
}

// handshakeTimeout bounds how long a client may take to log in.
const handshakeTimeout = 30 * time.Second

// serve accepts the connections of one host until the fleet closes.
func (f *Fleet) serve(h *simHost) {
	defer f.wg.Done()
	for {
		c, err := h.ln.Accept()
		if err != nil {
			return
		}
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			f.handle(h, c)
		}()
	}
}

// handle runs one client connection.
func (f *Fleet) handle(h *simHost, c net.Conn) {
	// Whatever happens, the connection ends with the fleet.
	stop := context.AfterFunc(f.ctx, func() { c.Close() })
	defer stop()
	defer c.Close()
	if h.profile.Mode == Silent {
		// Hold the connection, send nothing, until the client gives up.
		buf := make([]byte, 512)
		for {
			if _, err := c.Read(buf); err != nil {
				return
			}
		}
	}
	c.SetDeadline(time.Now().Add(handshakeTimeout))
	conn, chans, reqs, err := ssh.NewServerConn(c, h.config)
	if err != nil {
		return
	}
	c.SetDeadline(time.Time{})
	defer conn.Close()
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, chReqs, err := nc.Accept()
		if err != nil {
			continue
		}
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			f.session(h, ch, chReqs)
		}()
	}
}

// session answers the requests of one session channel: one exec.
func (f *Fleet) session(h *simHost, ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	for req := range reqs {
		switch req.Type {
		case "exec":
			if len(req.Payload) < 4 || int(binary.BigEndian.Uint32(req.Payload)) != len(req.Payload)-4 {
				req.Reply(false, nil)
				continue
			}
			req.Reply(true, nil)
			cmd := string(req.Payload[4:])
			stdout, stderr, exit := h.profile.Answer(cmd)
			if h.profile.Mode == Stall {
				ch.Write(stdout[:len(stdout)/2])
				for { // until the client or the fleet gives up
					select {
					case <-f.ctx.Done():
						return
					case _, ok := <-reqs:
						if !ok {
							return
						}
					}
				}
			}
			ch.Write(stdout)
			ch.Stderr().Write(stderr)
			status := make([]byte, 4)
			binary.BigEndian.PutUint32(status, uint32(exit))
			ch.SendRequest("exit-status", false, status)
			return
		case "env", "pty-req":
			req.Reply(true, nil)
		default:
			req.Reply(false, nil)
		}
	}
}

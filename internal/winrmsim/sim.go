// Package winrmsim is a WS-Management (WinRM) endpoint emulator for tests,
// demos and benchmarks: each simulated Windows host listens on its own
// 127.0.0.1 port and answers the remote shell protocol the
// github.com/masterzen/winrm client drives (Create shell, Command, Receive,
// Signal, Delete) the way the Windows WinRM service does.
//
// # Use
//
// Start a set of hosts with [Start], point the scanner at [Sim.Hosts], trust
// [Sim.CAFile] (a CA made for the run) and close the simulator when done:
//
//	sim, err := winrmsim.Start(ctx, winrmsim.Config{
//		Hosts: []winrmsim.HostSpec{{Name: "win-01", Profile: winprofiles.Server2019}},
//		TLS:   true, User: "Administrator", Password: "secret",
//	})
//	defer sim.Close()
//
// Each host answers exactly [probe.WindowsCommand] with the output of
// its profile ([Profiles]); any other command line exits 1 with cmd.exe's
// "is not recognized" error on stderr.
//
// # Authentication
//
// Basic authentication and NTLMv2 (Negotiate) are checked against
// Config.User and Config.Password. Wrong credentials get HTTP 401 with an
// empty body, as Windows answers. Config.Auth restricts the schemes offered.
package winrmsim

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/factorgate/factorgate/internal/winprofiles"
)

// Config says which hosts to simulate and how they authenticate.
type Config struct {
	Hosts []HostSpec
	// TLS serves HTTPS with a certificate for 127.0.0.1 signed by a CA made
	// for this run; false serves plain HTTP.
	TLS bool
	// User and Password are the one account every host accepts.
	User, Password string
	// Auth is "basic", "ntlm", or "" for both (as a Windows host with Basic
	// enabled offers Negotiate and Basic).
	Auth string
	// SlowDelay is how long a host of a Slow profile holds the first
	// answer of the probe; 0 means 5s.
	SlowDelay time.Duration
	// ChunkSize is how many bytes of stdout one Receive carries; 0 means 1024.
	ChunkSize int
}

// HostSpec is one host to simulate: its name and the profile it plays.
type HostSpec struct {
	Name    string
	Profile string
}

// HostInfo says where a simulated host listens.
type HostInfo struct {
	Name    string
	Address string
	Port    int
	Profile string
}

// Stats counts what a host was asked to do.
type Stats struct {
	ShellsCreated, ShellsDeleted, Signals, Faults int
	// Unauthorized counts 401 answers other than NTLM challenges.
	Unauthorized int
	// Commands are the command lines received, in order.
	Commands []string
	// Auth counts authenticated requests by scheme: "basic", "ntlm".
	Auth map[string]int
}

// Sim is a running set of simulated Windows hosts.
type Sim struct {
	cfg    Config
	ca     *testCA
	caFile string
	dir    string
	hosts  []*host
	done   chan struct{}
	once   sync.Once
}

type host struct {
	sim     *Sim
	info    HostInfo
	profile winprofiles.Profile
	srv     *http.Server
	ln      net.Listener

	mu     sync.Mutex
	shells map[string]map[string]*command
	stats  Stats
}

// Profiles returns the profiles a host can play, with the verdict expected
// for each.
func Profiles() []winprofiles.Profile { return winprofiles.All() }

// Start starts the hosts of cfg, each on its own 127.0.0.1:0 listener. They
// stop when ctx ends or [Sim.Close] is called.
func Start(ctx context.Context, cfg Config) (*Sim, error) {
	if cfg.User == "" || cfg.Password == "" {
		return nil, errors.New("winrmsim: User and Password are required")
	}
	switch cfg.Auth {
	case "", "basic", "ntlm":
	default:
		return nil, fmt.Errorf("winrmsim: Auth %q: want basic, ntlm or empty", cfg.Auth)
	}
	if cfg.SlowDelay <= 0 {
		cfg.SlowDelay = 5 * time.Second
	}
	if cfg.ChunkSize <= 0 {
		cfg.ChunkSize = 1024
	}
	s := &Sim{cfg: cfg, done: make(chan struct{})}
	if cfg.TLS {
		ca, err := newTestCA()
		if err != nil {
			return nil, fmt.Errorf("winrmsim: %w", err)
		}
		s.ca = ca
		s.dir, err = os.MkdirTemp("", "winrmsim-")
		if err != nil {
			return nil, fmt.Errorf("winrmsim: %w", err)
		}
		s.caFile = filepath.Join(s.dir, "ca.pem")
		if err := os.WriteFile(s.caFile, ca.pem, 0o644); err != nil {
			s.Close()
			return nil, fmt.Errorf("winrmsim: %w", err)
		}
	}
	for _, spec := range cfg.Hosts {
		p, err := profileByName(spec.Profile)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("winrmsim: host %s: %w", spec.Name, err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("winrmsim: host %s: %w", spec.Name, err)
		}
		h := &host{sim: s, profile: p, ln: ln, shells: map[string]map[string]*command{}}
		h.stats.Auth = map[string]int{}
		h.info = HostInfo{Name: spec.Name, Address: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, Profile: spec.Profile}
		h.srv = &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          log.New(io.Discard, "", 0),
			ConnContext: func(ctx context.Context, _ net.Conn) context.Context {
				return context.WithValue(ctx, connKey{}, &connState{})
			},
		}
		if cfg.TLS {
			ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{s.ca.server}, MinVersion: tls.VersionTLS12})
		}
		s.hosts = append(s.hosts, h)
		go h.srv.Serve(ln)
	}
	go func() {
		select {
		case <-ctx.Done():
			s.Close()
		case <-s.done:
		}
	}()
	return s, nil
}

// Hosts returns where each host listens, in the order of Config.Hosts.
func (s *Sim) Hosts() []HostInfo {
	out := make([]HostInfo, len(s.hosts))
	for i, h := range s.hosts {
		out[i] = h.info
	}
	return out
}

// CAFile is the path of the PEM file of the CA that signed the hosts'
// certificate; empty without TLS.
func (s *Sim) CAFile() string { return s.caFile }

// CAPEM is the PEM of the CA that signed the hosts' certificate; nil
// without TLS.
func (s *Sim) CAPEM() []byte {
	if s.ca == nil {
		return nil
	}
	return bytes.Clone(s.ca.pem)
}

// Stats returns what the host called name was asked to do.
func (s *Sim) Stats(name string) Stats {
	for _, h := range s.hosts {
		if h.info.Name == name {
			h.mu.Lock()
			defer h.mu.Unlock()
			st := h.stats
			st.Commands = append([]string(nil), st.Commands...)
			st.Auth = map[string]int{}
			for k, v := range h.stats.Auth {
				st.Auth[k] = v
			}
			return st
		}
	}
	return Stats{}
}

// OpenShells is how many shells of the host called name are not deleted.
func (s *Sim) OpenShells(name string) int {
	for _, h := range s.hosts {
		if h.info.Name == name {
			h.mu.Lock()
			defer h.mu.Unlock()
			return len(h.shells)
		}
	}
	return 0
}

// Close stops every host and removes the CA file.
func (s *Sim) Close() error {
	s.once.Do(func() {
		close(s.done)
		for _, h := range s.hosts {
			h.srv.Close()
		}
		if s.dir != "" {
			os.RemoveAll(s.dir)
		}
	})
	return nil
}

func (h *host) url() string {
	scheme := "http"
	if h.sim.cfg.TLS {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(h.info.Address, strconv.Itoa(h.info.Port)) + "/wsman"
}

type connKey struct{}

// connState is the NTLM state of one connection: NTLM authenticates the
// connection, not each request.
type connState struct {
	mu            sync.Mutex
	challenge     []byte
	authenticated bool
}

// ServeHTTP authenticates a request and answers it.
func (h *host) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/wsman" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return
	}
	if !h.authenticate(w, r) {
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/soap+xml") {
		w.WriteHeader(http.StatusUnsupportedMediaType)
		return
	}
	h.serveWSMan(w, r, body)
}

// authenticate checks the request's credentials; when it returns false it
// has answered 401.
func (h *host) authenticate(w http.ResponseWriter, r *http.Request) bool {
	cs, _ := r.Context().Value(connKey{}).(*connState)
	basicOK := h.sim.cfg.Auth != "ntlm"
	ntlmOK := h.sim.cfg.Auth != "basic"
	if cs != nil {
		cs.mu.Lock()
		done := cs.authenticated
		cs.mu.Unlock()
		if done && r.Header.Get("Authorization") == "" {
			h.count("ntlm")
			return true
		}
	}
	scheme, data, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	switch {
	case strings.EqualFold(scheme, "Basic") && basicOK:
		user, pass, ok := r.BasicAuth()
		if ok && strings.EqualFold(user, h.sim.cfg.User) && subtle.ConstantTimeCompare([]byte(pass), []byte(h.sim.cfg.Password)) == 1 {
			h.count("basic")
			return true
		}
	case (strings.EqualFold(scheme, "Negotiate") || strings.EqualFold(scheme, "NTLM")) && ntlmOK && cs != nil:
		msg, err := base64.StdEncoding.DecodeString(strings.TrimSpace(data))
		if err != nil {
			break
		}
		switch ntlmMessageType(msg) {
		case 1:
			challenge, server := ntlmChallenge()
			cs.mu.Lock()
			cs.challenge, cs.authenticated = server, false
			cs.mu.Unlock()
			w.Header().Set("WWW-Authenticate", scheme+" "+base64.StdEncoding.EncodeToString(challenge))
			w.WriteHeader(http.StatusUnauthorized)
			return false
		case 3:
			cs.mu.Lock()
			server := cs.challenge
			cs.challenge = nil
			cs.mu.Unlock()
			if server != nil && ntlmVerify(msg, server, h.sim.cfg.User, h.sim.cfg.Password) == nil {
				cs.mu.Lock()
				cs.authenticated = true
				cs.mu.Unlock()
				h.count("ntlm")
				return true
			}
		}
	}
	h.mu.Lock()
	h.stats.Unauthorized++
	h.mu.Unlock()
	if ntlmOK {
		w.Header().Add("WWW-Authenticate", "Negotiate")
	}
	if basicOK {
		w.Header().Add("WWW-Authenticate", `Basic realm="WSMAN"`)
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusUnauthorized)
	return false
}

func (h *host) count(scheme string) {
	h.mu.Lock()
	h.stats.Auth[scheme]++
	h.mu.Unlock()
}

// newID returns a GUID in the form Windows prints them.
func newID() string {
	b := make([]byte, 16)
	rand.Read(b)
	x := strings.ToUpper(hex.EncodeToString(b))
	return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:]
}

package testutil

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// SSHServer is a minimal SSH server built on x/crypto/ssh, for the
// behaviours a real sshd will not show on demand: a server that stalls in
// the middle of a command, and many cheap hosts for the benchmark. It
// accepts any public key.
type SSHServer struct {
	Addr    string
	HostKey ssh.PublicKey
	l       net.Listener
	wg      sync.WaitGroup
	mu      sync.Mutex
	conns   []net.Conn
	// exec answers one exec request; nil stalls forever.
	exec func(cmd string) (stdout []byte, status uint32)
}

// StartSSHServer starts an [SSHServer] on loopback, closed with the test;
// exec answers each command (nil: every command stalls).
func StartSSHServer(tb testing.TB, exec func(cmd string) ([]byte, uint32)) *SSHServer {
	tb.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		tb.Fatal(err)
	}
	cfg := &ssh.ServerConfig{
		PublicKeyCallback: func(ssh.ConnMetadata, ssh.PublicKey) (*ssh.Permissions, error) { return nil, nil },
		ServerVersion:     "SSH-2.0-OpenSSH_7.4",
	}
	cfg.AddHostKey(signer)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := &SSHServer{Addr: l.Addr().String(), HostKey: signer.PublicKey(), l: l, exec: exec}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.serve(c, cfg)
			}()
		}
	}()
	tb.Cleanup(s.close)
	return s
}

func (s *SSHServer) close() {
	s.l.Close()
	s.mu.Lock()
	for _, c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *SSHServer) serve(c net.Conn, cfg *ssh.ServerConfig) {
	sc, chans, reqs, err := ssh.NewServerConn(c, cfg)
	if err != nil {
		c.Close()
		return
	}
	defer sc.Close()
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.UnknownChannelType, "no")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			return
		}
		go func() {
			for r := range creqs {
				if r.Type != "exec" {
					r.Reply(false, nil)
					continue
				}
				r.Reply(true, nil)
				if s.exec == nil {
					continue // stall: never answer, never exit
				}
				var cmd string
				if len(r.Payload) >= 4 {
					cmd = string(r.Payload[4:])
				}
				out, status := s.exec(cmd)
				ch.Write(out)
				var st [4]byte
				binary.BigEndian.PutUint32(st[:], status)
				ch.SendRequest("exit-status", false, st[:])
				ch.Close()
			}
		}()
	}
}

// KnownHostsFile writes a known_hosts file holding each server's key.
func KnownHostsFile(tb testing.TB, servers ...*SSHServer) string {
	tb.Helper()
	var data []byte
	for _, s := range servers {
		data = append(data, knownhosts.Line([]string{s.Addr}, s.HostKey)+"\n"...)
	}
	p := filepath.Join(tb.TempDir(), "known_hosts")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		tb.Fatal(err)
	}
	return p
}

// ClientKeyFile writes an unencrypted ed25519 private key and returns its path.
func ClientKeyFile(tb testing.TB) string {
	tb.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		tb.Fatal(err)
	}
	p := filepath.Join(tb.TempDir(), "id_ed25519")
	if err := os.WriteFile(p, pem.EncodeToMemory(block), 0o600); err != nil {
		tb.Fatal(err)
	}
	return p
}

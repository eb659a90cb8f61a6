package ssh

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/factorgate/factorgate/internal/testutil"
	"github.com/factorgate/factorgate/scanner/inventory"
	"github.com/factorgate/factorgate/scanner/transport"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// authLog is a jump server that takes passwords only and records every
// login method a client tries, and every password it is offered.
type authLog struct {
	mu        sync.Mutex
	methods   []string
	passwords []string
}

func startPasswordOnlyServer(t *testing.T, log *authLog) (addr string, hostKey ssh.PublicKey) {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &ssh.ServerConfig{
		PasswordCallback: func(_ ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			log.mu.Lock()
			log.passwords = append(log.passwords, string(pw))
			log.mu.Unlock()
			return nil, errors.New("no")
		},
		KeyboardInteractiveCallback: func(ssh.ConnMetadata, ssh.KeyboardInteractiveChallenge) (*ssh.Permissions, error) {
			return nil, errors.New("no")
		},
		AuthLogCallback: func(_ ssh.ConnMetadata, method string, _ error) {
			log.mu.Lock()
			log.methods = append(log.methods, method)
			log.mu.Unlock()
		},
		ServerVersion: "SSH-2.0-OpenSSH_9.2p1",
	}
	cfg.AddHostKey(signer)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if sc, _, _, err := ssh.NewServerConn(c, cfg); err == nil {
					sc.Close()
				}
				c.Close()
			}()
		}
	}()
	return l.Addr().String(), signer.PublicKey()
}

// TestProxyJumpNeverGetsThePassword logs in to a host that has a password
// through a jump server that takes only passwords: the jump login must be
// refused without the password (or keyboard-interactive) ever being tried.
func TestProxyJumpNeverGetsThePassword(t *testing.T) {
	const secret = "target-only-secret"
	tests := []struct {
		name string
		key  bool // the scanner also holds a key file
		jump string
	}{
		{"password only, jump user named", false, "bastion@"},
		{"password only, target's user", false, ""},
		{"key and password", true, "bastion@"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := &authLog{}
			addr, hostKey := startPasswordOnlyServer(t, log)
			kh := filepath.Join(t.TempDir(), "known_hosts")
			if err := os.WriteFile(kh, []byte(knownhosts.Line([]string{addr}, hostKey)+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			h := inventory.Host{Name: "target", Address: "127.0.0.1", Port: 1, Transport: inventory.TransportSSH,
				SSH: inventory.SSHConfig{User: "ops", Password: inventory.Secret{Env: "FG_PW"}, KnownHosts: kh, ProxyJump: tt.jump + addr}}
			if tt.key {
				h.SSH.IdentityFile = testutil.ClientKeyFile(t)
			}
			_, err := dial(t, h, transport.Config{Env: envOf(map[string]string{"FG_PW": secret})})
			if err == nil || !strings.Contains(err.Error(), "jump host") || !strings.Contains(err.Error(), "refused") {
				t.Fatalf("error = %v, want the jump host's login refused", err)
			}
			log.mu.Lock()
			defer log.mu.Unlock()
			if len(log.methods) == 0 {
				t.Fatal("the jump server saw no login attempt")
			}
			for _, m := range log.methods {
				if m == "password" || m == "keyboard-interactive" {
					t.Errorf("the jump server was offered %q (methods tried: %v)", m, log.methods)
				}
			}
			if len(log.passwords) > 0 {
				t.Errorf("the jump server received %d passwords", len(log.passwords))
			}
		})
	}
}

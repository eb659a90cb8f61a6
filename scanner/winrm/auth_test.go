package winrm_test

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/factorgate/factorgate/internal/winprofiles"
	"github.com/factorgate/factorgate/internal/winrmsim"
	"github.com/factorgate/factorgate/scanner/inventory"
	"github.com/factorgate/factorgate/scanner/probe"
	"github.com/factorgate/factorgate/scanner/winrm"
)

// headerLog records the headers of every request a test server receives.
type headerLog struct {
	mu   sync.Mutex
	reqs []http.Header
}

func (l *headerLog) add(h http.Header) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reqs = append(l.reqs, h.Clone())
}

func (l *headerLog) all() []http.Header {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]http.Header(nil), l.reqs...)
}

// basicOnlyServer answers every request with 401 and an offer of Basic
// alone, as a WinRM listener with only Basic enabled (or an impostor that
// wants the password) does.
func basicOnlyServer(t *testing.T, tls bool) (*httptest.Server, *headerLog) {
	t.Helper()
	log := &headerLog{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		log.add(r.Header)
		w.Header().Set("WWW-Authenticate", `Basic realm="WSMAN"`)
		w.WriteHeader(http.StatusUnauthorized)
	})
	var srv *httptest.Server
	if tls {
		srv = httptest.NewTLSServer(h)
	} else {
		srv = httptest.NewServer(h)
	}
	t.Cleanup(srv.Close)
	return srv, log
}

func serverHost(t testing.TB, srv *httptest.Server, https bool, auth string) inventory.Host {
	t.Helper()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(u.Port())
	h := inventory.Host{
		Name: "impostor", Address: u.Hostname(), Port: port, Transport: inventory.TransportWinRM, OS: "windows",
		WinRM: inventory.WinRMConfig{User: simUser, HTTPS: https, Insecure: https, Auth: auth, Password: inventory.Secret{Env: "WINRM_PASSWORD"}},
	}
	return h
}

// leaksPassword says which header of which request carries the password,
// in clear or in a Basic credential.
func leaksPassword(reqs []http.Header) string {
	basic := base64.StdEncoding.EncodeToString([]byte(simUser + ":" + simPassword))
	for i, h := range reqs {
		for k, vs := range h {
			for _, v := range vs {
				if strings.HasPrefix(strings.ToLower(v), "basic") || strings.Contains(v, basic) || strings.Contains(v, simPassword) {
					return "request " + strconv.Itoa(i) + " header " + k + ": " + v
				}
			}
		}
	}
	return ""
}

// Under auth: ntlm the password never leaves in a Basic header, whatever
// the server's 401 offers.
func TestWinRMNTLMNeverSendsBasic(t *testing.T) {
	for _, tls := range []bool{true, false} {
		t.Run("https="+strconv.FormatBool(tls), func(t *testing.T) {
			srv, log := basicOnlyServer(t, tls)
			h := serverHost(t, srv, tls, "ntlm")
			_, err := winrm.Dial(context.Background(), h, simOptions(simPassword))
			if err == nil {
				t.Fatal("dial succeeded against a server that offers only Basic")
			}
			t.Log(err)
			if !errors.Is(err, winrm.ErrBasicRefused) || !strings.Contains(err.Error(), "offers only Basic") {
				t.Errorf("err = %v, want ErrBasicRefused saying the host offers only Basic", err)
			}
			reqs := log.all()
			if len(reqs) == 0 {
				t.Fatal("the server saw no request")
			}
			if leak := leaksPassword(reqs); leak != "" {
				t.Errorf("password sent: %s", leak)
			}
		})
	}
}

// The same against the WS-Management emulator with only Basic enabled: it
// never sees a Basic login.
func TestWinRMNTLMAgainstBasicOnlyHost(t *testing.T) {
	sim := startSim(t, winrmsim.Config{TLS: true, Auth: "basic", Hosts: []winrmsim.HostSpec{{Name: "basic-only", Profile: winprofiles.Server2019}}})
	h := simHost(sim.Hosts()[0], true, sim.CAFile())
	h.WinRM.Auth = "ntlm"
	_, err := winrm.Dial(context.Background(), h, simOptions(simPassword))
	if !errors.Is(err, winrm.ErrBasicRefused) {
		t.Fatalf("err = %v, want ErrBasicRefused", err)
	}
	st := sim.Stats("basic-only")
	if st.Auth["basic"] != 0 || st.ShellsCreated != 0 {
		t.Errorf("the host took a Basic login: %+v", st)
	}
	if st.Unauthorized == 0 {
		t.Errorf("the host saw no request: %+v", st)
	}
}

// Basic over plain HTTP is refused before anything is sent, unless the
// inventory says allow_basic_over_http.
func TestWinRMBasicOverHTTP(t *testing.T) {
	srv, log := basicOnlyServer(t, false)
	h := serverHost(t, srv, false, "basic")
	h.Line = 7
	_, err := winrm.Dial(context.Background(), h, simOptions(simPassword))
	if !errors.Is(err, winrm.ErrBasicRefused) || !strings.Contains(err.Error(), "winrm.allow_basic_over_http") || !strings.Contains(err.Error(), "inventory line 7") {
		t.Fatalf("err = %v, want a refusal naming winrm.allow_basic_over_http and the inventory line", err)
	}
	if n := len(log.all()); n != 0 {
		t.Errorf("%d requests sent, want none", n)
	}

	// Allowed: it works against a host that takes Basic.
	sim := startSim(t, winrmsim.Config{Auth: "basic", Hosts: []winrmsim.HostSpec{{Name: "plain", Profile: winprofiles.Server2016}}})
	h = simHost(sim.Hosts()[0], false, "")
	h.WinRM.AllowBasicOverHTTP = true
	sess, err := winrm.Dial(context.Background(), h, simOptions(simPassword))
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if _, err := sess.Run(context.Background(), probe.WindowsCommand); err != nil {
		t.Fatal(err)
	}
}

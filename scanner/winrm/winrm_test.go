package winrm_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/internal/winprofiles"
	"github.com/factorgate/factorgate/internal/winrmsim"
	"github.com/factorgate/factorgate/scanner/inventory"
	"github.com/factorgate/factorgate/scanner/probe"
	"github.com/factorgate/factorgate/scanner/transport"
	"github.com/factorgate/factorgate/scanner/winrm"
)

const (
	simUser     = "Administrator"
	simPassword = "S3cret-für-WinRM"
)

func startSim(t *testing.T, cfg winrmsim.Config) *winrmsim.Sim {
	t.Helper()
	if cfg.User == "" {
		cfg.User, cfg.Password = simUser, simPassword
	}
	sim, err := winrmsim.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	return sim
}

// simHost turns a simulated host into an inventory host.
func simHost(h winrmsim.HostInfo, https bool, caFile string) inventory.Host {
	return inventory.Host{
		Name: h.Name, Address: h.Address, Port: h.Port, Transport: inventory.TransportWinRM, OS: "windows",
		WinRM: inventory.WinRMConfig{User: simUser, HTTPS: https, CAFile: caFile, Auth: "basic", Password: inventory.Secret{Env: "WINRM_PASSWORD"}},
	}
}

func simOptions(password string) transport.Config {
	return transport.Config{
		Env: func(k string) string {
			if k == "WINRM_PASSWORD" {
				return password
			}
			return ""
		},
		Timeouts: transport.Timeouts{Dial: 5 * time.Second, Handshake: 5 * time.Second, Probe: 10 * time.Second, Host: 20 * time.Second},
	}
}

// captureLogs sends slog's default logger to a buffer for the test.
func captureLogs(t *testing.T) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })
	return &buf
}

func TestWinRMProbeProfiles(t *testing.T) {
	// What each profile must yield, stated apart from its output.
	type want struct {
		rdp        bool
		mustChange bool // an enabled account must change its password
		agent      bool
		products   string
		version    string
	}
	wants := map[string]want{
		winprofiles.Server2012R2:        {true, false, true, "", "6.3.9600"},
		winprofiles.Server2016:          {true, false, true, "", "10.0.14393"},
		winprofiles.Server2019:          {true, false, true, "", "10.0.17763"},
		winprofiles.Server2022:          {true, false, true, "", "10.0.20348"},
		winprofiles.RDPOff:              {false, false, true, "", "10.0.17763"},
		winprofiles.RDPOffByPolicy:      {false, false, true, "", "10.0.17763"},
		winprofiles.MustChange:          {true, true, true, "", "10.0.20348"},
		winprofiles.MustChangeDisabled:  {true, false, true, "", "10.0.20348"},
		winprofiles.AgentAbsent:         {true, false, false, "", "10.0.17763"},
		winprofiles.ConflictingProduct:  {true, false, true, "360 Guard", "10.0.14393"},
		winprofiles.TermServiceDisabled: {false, false, true, "", "10.0.17763"},
		winprofiles.WinStationOff:       {false, false, true, "", "10.0.20348"},
		winprofiles.RDPFirewallOff:      {true, false, true, "", "10.0.14393"},
		winprofiles.MustChangeExpired2:  {true, true, true, "", "10.0.17763"},
		winprofiles.DomainController:    {true, false, true, "", "10.0.20348"},
		winprofiles.BannerNoise:         {true, false, true, "", "10.0.17763"},
	}
	var specs []winrmsim.HostSpec
	for _, p := range winrmsim.Profiles() {
		if p.Expect.Facts {
			specs = append(specs, winrmsim.HostSpec{Name: "win-" + p.Name, Profile: p.Name})
			if _, ok := wants[p.Name]; !ok {
				t.Errorf("profile %s has no expectation in this test", p.Name)
			}
		}
	}
	sim := startSim(t, winrmsim.Config{Hosts: specs, TLS: true, ChunkSize: 200})
	for _, h := range sim.Hosts() {
		t.Run(h.Profile, func(t *testing.T) {
			ctx := context.Background()
			sess, err := winrm.Dial(ctx, simHost(h, true, sim.CAFile()), simOptions(simPassword))
			if err != nil {
				t.Fatal(err)
			}
			if auth := sess.Auth(); auth != "basic" {
				t.Errorf("auth = %q", auth)
			}
			out, err := sess.Run(ctx, probe.WindowsCommand)
			if err != nil {
				t.Fatal(err)
			}
			sess.Close()
			if out.ExitCode != 0 {
				t.Fatalf("exit %d: %s", out.ExitCode, out.Stderr)
			}
			var f contract.Facts
			if err := probe.ParseWindows(out.Stdout, &f); err != nil {
				t.Fatal(err)
			}
			w := wants[h.Profile]
			must := false
			for _, a := range f.Accounts {
				must = must || (*a.Enabled && *a.MustChangePassword)
			}
			got := want{*f.RDP.Enabled, must, *f.HSS.AgentRunning, strings.Join(f.SecurityProducts, ","), *f.OS.Version}
			if got != w {
				t.Errorf("facts: got %+v, want %+v", got, w)
			}
			st := sim.Stats(h.Name)
			if st.Signals != 1 {
				t.Errorf("%d signals, want the command ended once", st.Signals)
			}
			if st.ShellsCreated != 2 || st.ShellsDeleted != 2 || sim.OpenShells(h.Name) != 0 {
				t.Errorf("shells created %d deleted %d open %d: want every shell deleted", st.ShellsCreated, st.ShellsDeleted, sim.OpenShells(h.Name))
			}
			if len(st.Commands) != 1 || st.Commands[0] != probe.WindowsCommand {
				t.Errorf("commands received: %d, want exactly the probe", len(st.Commands))
			}
			if st.Auth["basic"] == 0 || st.Unauthorized != 0 {
				t.Errorf("auth stats %+v", st)
			}
		})
	}
}

func TestWinRMTransportErrors(t *testing.T) {
	sim := startSim(t, winrmsim.Config{TLS: true, SlowDelay: 30 * time.Second, Hosts: []winrmsim.HostSpec{
		{Name: "ok", Profile: winprofiles.Server2019},
		{Name: "slow", Profile: winprofiles.Slow},
		{Name: "garbage", Profile: winprofiles.Garbage},
	}})
	hosts := map[string]winrmsim.HostInfo{}
	for _, h := range sim.Hosts() {
		hosts[h.Name] = h
	}
	ctx := context.Background()

	t.Run("untrusted certificate", func(t *testing.T) {
		_, err := winrm.Dial(ctx, simHost(hosts["ok"], true, ""), simOptions(simPassword))
		if !errors.Is(err, winrm.ErrCertificate) || !strings.Contains(err.Error(), "certificate") || !strings.Contains(err.Error(), "ca_file") {
			t.Fatalf("err = %v, want a certificate error that points at ca_file", err)
		}
		t.Log(err)
		if sim.Stats("ok").ShellsCreated != 0 {
			t.Errorf("a shell was created over an untrusted connection")
		}
	})

	t.Run("insecure works and warns", func(t *testing.T) {
		logs := captureLogs(t)
		h := simHost(hosts["ok"], true, "")
		h.WinRM.Insecure = true
		sess, err := winrm.Dial(ctx, h, simOptions(simPassword))
		if err != nil {
			t.Fatal(err)
		}
		defer sess.Close()
		if _, err := sess.Run(ctx, probe.WindowsCommand); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "host=ok") || !strings.Contains(logs.String(), "insecure") {
			t.Errorf("no warning naming the host: %q", logs.String())
		}
		if strings.Contains(logs.String(), simPassword) {
			t.Errorf("password logged")
		}
	})

	t.Run("wrong password", func(t *testing.T) {
		_, err := winrm.Dial(ctx, simHost(hosts["ok"], true, sim.CAFile()), simOptions("wrong"))
		want := "winrm 127.0.0.1:" + strconv.Itoa(hosts["ok"].Port) + ": authentication refused for user Administrator (check the variable named by winrm.password_env (the inventory))"
		if !errors.Is(err, winrm.ErrAuth) || err.Error() != want {
			t.Fatalf("err = %v\nwant %s", err, want)
		}
	})

	t.Run("password unset", func(t *testing.T) {
		_, err := winrm.Dial(ctx, simHost(hosts["ok"], true, sim.CAFile()), simOptions(""))
		if err == nil || !strings.Contains(err.Error(), "the variable named by winrm.password_env (the inventory) is unset or empty") || strings.Contains(err.Error(), "WINRM_PASSWORD") {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("password file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "pw")
		if err := os.WriteFile(path, []byte(simPassword+"\r\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		h := simHost(hosts["ok"], true, sim.CAFile())
		h.WinRM.Password = inventory.Secret{File: path}
		sess, err := winrm.Dial(ctx, h, simOptions(""))
		if err != nil {
			t.Fatal(err)
		}
		sess.Close()
		if err := os.WriteFile(path, []byte("wrong\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err = winrm.Dial(ctx, h, simOptions(""))
		if !errors.Is(err, winrm.ErrAuth) || !strings.Contains(err.Error(), "check the file named by winrm.password_file (the inventory)") || strings.Contains(err.Error(), path) {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("bad ca file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "ca.pem")
		os.WriteFile(path, []byte("not a certificate"), 0o600)
		_, err := winrm.Dial(ctx, simHost(hosts["ok"], true, path), simOptions(simPassword))
		if err == nil || !strings.Contains(err.Error(), "holds no PEM certificate") {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("slow answer", func(t *testing.T) {
		opts := simOptions(simPassword)
		opts.Timeouts.Probe = 300 * time.Millisecond
		sess, err := winrm.Dial(ctx, simHost(hosts["slow"], true, sim.CAFile()), opts)
		if err != nil {
			t.Fatal(err)
		}
		defer sess.Close()
		_, err = sess.Run(ctx, probe.WindowsCommand)
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "no answer in time") {
			t.Fatalf("err = %v, want a deadline error", err)
		}
	})

	t.Run("garbage", func(t *testing.T) {
		sess, err := winrm.Dial(ctx, simHost(hosts["garbage"], true, sim.CAFile()), simOptions(simPassword))
		if err != nil {
			t.Fatal(err)
		}
		defer sess.Close()
		out, err := sess.Run(ctx, probe.WindowsCommand)
		if err != nil {
			t.Fatal(err)
		}
		var f contract.Facts
		if err := probe.ParseWindows(out.Stdout, &f); !errors.Is(err, probe.ErrWindowsOutput) {
			t.Fatalf("parse err = %v", err)
		}
	})

	t.Run("other command", func(t *testing.T) {
		sess, err := winrm.Dial(ctx, simHost(hosts["ok"], true, sim.CAFile()), simOptions(simPassword))
		if err != nil {
			t.Fatal(err)
		}
		defer sess.Close()
		out, err := sess.Run(ctx, "whoami /all")
		if err != nil {
			t.Fatal(err)
		}
		if out.ExitCode != 1 || len(out.Stdout) != 0 || !strings.Contains(string(out.Stderr), "'whoami' is not recognized") {
			t.Fatalf("exit %d stdout %q stderr %q", out.ExitCode, out.Stdout, out.Stderr)
		}
	})

	t.Run("output cap", func(t *testing.T) {
		opts := simOptions(simPassword)
		opts.MaxOutput = 100
		sess, err := winrm.Dial(ctx, simHost(hosts["ok"], true, sim.CAFile()), opts)
		if err != nil {
			t.Fatal(err)
		}
		defer sess.Close()
		_, err = sess.Run(ctx, probe.WindowsCommand)
		if !errors.Is(err, transport.ErrOutputTooLarge) {
			t.Fatalf("err = %v, want ErrOutputTooLarge", err)
		}
	})

	t.Run("nothing listening", func(t *testing.T) {
		h := simHost(hosts["ok"], true, sim.CAFile())
		h.Port = closedPort(t)
		_, err := winrm.Dial(ctx, h, simOptions(simPassword))
		prefix := "winrm 127.0.0.1:" + strconv.Itoa(h.Port) + ": "
		if err == nil || !strings.HasPrefix(err.Error(), prefix) || strings.Contains(err.Error(), "\n") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestWinRMPlainHTTP(t *testing.T) {
	sim := startSim(t, winrmsim.Config{Hosts: []winrmsim.HostSpec{{Name: "plain", Profile: winprofiles.Server2016}}})
	logs := captureLogs(t)
	h := simHost(sim.Hosts()[0], false, "")
	h.WinRM.AllowBasicOverHTTP = true
	sess, err := winrm.Dial(context.Background(), h, simOptions(simPassword))
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if _, err := sess.Run(context.Background(), probe.WindowsCommand); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "plain HTTP") {
		t.Errorf("no warning about plain HTTP: %q", logs.String())
	}
}

func TestWinRMNTLM(t *testing.T) {
	sim := startSim(t, winrmsim.Config{TLS: true, Auth: "ntlm", Hosts: []winrmsim.HostSpec{{Name: "ntlm", Profile: winprofiles.Server2022}}})
	h := simHost(sim.Hosts()[0], true, sim.CAFile())
	ctx := context.Background()

	h.WinRM.Auth = "ntlm"
	sess, err := winrm.Dial(ctx, h, simOptions(simPassword))
	if err != nil {
		t.Fatal(err)
	}
	if auth := sess.Auth(); auth != "ntlm" {
		t.Errorf("auth = %q", auth)
	}
	out, err := sess.Run(ctx, probe.WindowsCommand)
	sess.Close()
	if err != nil {
		t.Fatal(err)
	}
	var f contract.Facts
	if err := probe.ParseWindows(out.Stdout, &f); err != nil || *f.OS.Build != "20348" {
		t.Fatalf("parse: %v", err)
	}
	if st := sim.Stats("ntlm"); st.Auth["ntlm"] == 0 || st.Auth["basic"] != 0 {
		t.Errorf("auth stats %+v, want NTLM only", st.Auth)
	}

	if _, err := winrm.Dial(ctx, h, simOptions("wrong")); !errors.Is(err, winrm.ErrAuth) {
		t.Errorf("wrong NTLM password: err = %v", err)
	}
	h.WinRM.Auth = "basic"
	if _, err := winrm.Dial(ctx, h, simOptions(simPassword)); !errors.Is(err, winrm.ErrAuth) {
		t.Errorf("basic against an NTLM-only host: err = %v", err)
	}
	h.WinRM.Auth = "kerberos"
	if _, err := winrm.Dial(ctx, h, simOptions(simPassword)); err == nil || !strings.Contains(err.Error(), `auth "kerberos" is not supported`) {
		t.Errorf("kerberos: err = %v", err)
	}
}

// closedPort returns a loopback port with nothing listening on it.
func closedPort(t *testing.T) int {
	t.Helper()
	sim := startSim(t, winrmsim.Config{Hosts: []winrmsim.HostSpec{{Name: "x", Profile: winprofiles.Server2019}}})
	port := sim.Hosts()[0].Port
	sim.Close()
	return port
}

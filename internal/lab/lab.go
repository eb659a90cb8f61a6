// Package lab starts a whole simulated estate on loopback: Linux servers over
// SSH (internal/fleetsim), Windows servers over WinRM (internal/winrmsim) and
// the HSS and SMN APIs (internal/hsssim) that know them all, with an inventory
// that ties them together. `factorgate demo` and the end-to-end tests use it.
//
// Start it with [Start], point the scanner at [Lab.InventoryPath] with
// [Lab.Getenv] as its environment, and [Lab.Close] it when done.
package lab

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/factorgate/factorgate/cloud"
	"github.com/factorgate/factorgate/internal/fleetsim"
	"github.com/factorgate/factorgate/internal/hsssim"
	"github.com/factorgate/factorgate/internal/winprofiles"
	"github.com/factorgate/factorgate/internal/winrmsim"
)

// WinRMPasswordEnv names the variable holding the Windows hosts' password.
const WinRMPasswordEnv = "FACTORGATE_LAB_WINRM_PASSWORD"

// TopicURN is the SMN topic the lab's HSS emulator knows, with a confirmed
// SMS subscription.
const TopicURN = "urn:smn:eu-de:0a1b2c3d4e5f:factorgate-2fa"

// Config says how big the simulated estate is.
type Config struct {
	// Linux is the number of SSH hosts, a mix of every prompt profile
	// (fleetsim.Mixed); Hosts, when set, lists them instead.
	Linux int
	Hosts []fleetsim.HostSpec
	// Windows is the number of WinRM hosts, cycling through WindowsProfiles.
	Windows int
	// Dir receives the inventory, keys and known_hosts; "" makes a
	// temporary directory that Close removes.
	Dir string
	// ApplyDelay is how long a 2FA change takes to show in HSS.
	ApplyDelay time.Duration
	// Unmanaged is the number of servers HSS knows that the inventory lacks.
	Unmanaged int
	// SeedTwoFactor turns 2FA on, as if long ago, on the first Ubuntu 18.04
	// host (which qualifies: enabled) and the first Debian 12 host (whose
	// OpenSSH is too new: enabled_ineligible).
	SeedTwoFactor bool
}

// WindowsProfiles are the Windows profiles a lab cycles through: every
// release and every reason a Windows host can fail, answering promptly.
var WindowsProfiles = []string{
	winprofiles.Server2019, winprofiles.MustChange, winprofiles.Server2022, winprofiles.RDPOff,
	winprofiles.Server2016, winprofiles.RDPOffByPolicy, winprofiles.Server2012R2,
	winprofiles.MustChangeDisabled, winprofiles.AgentAbsent, winprofiles.ConflictingProduct,
}

// Lab is a running simulated estate.
type Lab struct {
	Fleet *fleetsim.Fleet
	WinRM *winrmsim.Sim
	HSS   *hsssim.Sim
	// InventoryPath is the inventory of every SSH and WinRM host.
	InventoryPath string
	// Dir holds the inventory and the credentials files.
	Dir string
	// HostIDs maps inventory host names to their HSS host ids.
	HostIDs map[string]string
	env     map[string]string
	tmp     bool
}

// Start brings up the estate. Every host is known to HSS under its inventory
// name, with its HSS id in the inventory; hosts without an agent or whose
// agent is stopped are so in HSS too.
func Start(ctx context.Context, cfg Config) (_ *Lab, err error) {
	l := &Lab{Dir: cfg.Dir, HostIDs: map[string]string{}}
	if l.Dir == "" {
		if l.Dir, err = os.MkdirTemp("", "factorgate-lab-"); err != nil {
			return nil, err
		}
		l.tmp = true
	}
	defer func() {
		if err != nil {
			l.Close()
		}
	}()
	specs := cfg.Hosts
	if len(specs) == 0 && cfg.Linux > 0 {
		specs = fleetsim.Mixed(cfg.Linux)
	}
	if len(specs) > 0 {
		sshDir := filepath.Join(l.Dir, "ssh")
		if err := os.MkdirAll(sshDir, 0o700); err != nil {
			return nil, err
		}
		l.Fleet, err = fleetsim.Start(ctx, fleetsim.Config{Hosts: specs, Dir: sshDir})
		if err != nil {
			return nil, fmt.Errorf("lab: ssh fleet: %w", err)
		}
	}
	password := randomHex(12)
	if cfg.Windows > 0 {
		var ws []winrmsim.HostSpec
		for i := range cfg.Windows {
			p := WindowsProfiles[i%len(WindowsProfiles)]
			ws = append(ws, winrmsim.HostSpec{Name: fmt.Sprintf("win-%s-%d", p, i+1), Profile: p})
		}
		l.WinRM, err = winrmsim.Start(ctx, winrmsim.Config{Hosts: ws, TLS: true, User: "Administrator", Password: password})
		if err != nil {
			return nil, fmt.Errorf("lab: winrm hosts: %w", err)
		}
	}
	l.HSS, err = hsssim.Start(ctx, hsssim.Config{AK: "LAB" + strings.ToUpper(randomHex(8)), SK: randomHex(20),
		ProjectID: "0a1b2c3d4e5f", ApplyDelay: cfg.ApplyDelay})
	if err != nil {
		return nil, fmt.Errorf("lab: hss emulator: %w", err)
	}
	l.HSS.AddTopic(hsssim.Topic{URN: TopicURN, Name: "factorgate-2fa", DisplayName: "2FA codes",
		Subscriptions: []hsssim.Subscription{{Protocol: "sms", Endpoint: "+4915100000000", Status: 1}}})
	l.env = l.HSS.Env()
	l.env[WinRMPasswordEnv] = password

	var inv strings.Builder
	inv.WriteString("# A simulated estate on loopback, written by factorgate's lab.\ndefaults:\n")
	if l.Fleet != nil {
		fmt.Fprintf(&inv, "  ssh: {user: %s, identity_file: %q, known_hosts: %q}\n", l.Fleet.User(), l.Fleet.IdentityPath(), l.Fleet.KnownHostsPath())
	}
	if l.WinRM != nil {
		fmt.Fprintf(&inv, "  winrm: {user: Administrator, https: true, ca_file: %q, password_env: %s}\n", l.WinRM.CAFile(), WinRMPasswordEnv)
	}
	inv.WriteString("hosts:\n")
	seeded := map[string]bool{}
	if l.Fleet != nil {
		for _, h := range l.Fleet.Hosts() {
			p, _ := fleetsim.Lookup(h.Profile)
			id := l.addHSSHost(h.Name, p.OS, agentOf(h.Profile))
			if cfg.SeedTwoFactor && (h.Profile == fleetsim.Ubuntu1804 || h.Profile == fleetsim.Debian12) && !seeded[h.Profile] {
				seeded[h.Profile] = true
				l.HSS.SetTwoFactor(id, hsssim.TwoFactor{Enabled: true, AuthType: "code"})
			}
			osLine := ""
			if p.OS == "windows" {
				osLine = ", os: windows"
			}
			fmt.Fprintf(&inv, "  - {name: %s, address: %s, port: %d%s, hss_host_id: %s, labels: {profile: %s, os: %s}}\n",
				h.Name, h.Address, h.Port, osLine, id, h.Profile, orLinux(p.OS))
		}
	}
	if l.WinRM != nil {
		for _, h := range l.WinRM.Hosts() {
			agent := hsssim.AgentOnline
			if h.Profile == winprofiles.AgentAbsent {
				agent = "not_installed"
			}
			id := l.addHSSHost(h.Name, "windows", agent)
			fmt.Fprintf(&inv, "  - {name: %s, address: %s, port: %d, transport: winrm, hss_host_id: %s, labels: {profile: %s, os: windows}}\n",
				h.Name, h.Address, h.Port, id, h.Profile)
		}
	}
	for i := range cfg.Unmanaged {
		l.HSS.AddHost(hsssim.Host{ID: fmt.Sprintf("hss-unmanaged-%02d", i+1), Name: fmt.Sprintf("legacy-%02d", i+1),
			PrivateIP: fmt.Sprintf("192.0.2.%d", 10+i), OSType: "Linux"})
	}
	l.InventoryPath = filepath.Join(l.Dir, "inventory.yaml")
	if err := os.WriteFile(l.InventoryPath, []byte(inv.String()), 0o600); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *Lab) addHSSHost(name, osName, agent string) string {
	id := "hss-" + name
	h := hsssim.Host{ID: id, Name: name, PrivateIP: "127.0.0.1", OSType: "Linux", AgentStatus: agent}
	if osName == "windows" {
		h.OSType = "Windows"
	}
	if agent != hsssim.AgentOnline {
		h.ProtectStatus = "closed"
	}
	l.HSS.AddHost(h)
	l.HostIDs[name] = id
	return id
}

// agentOf is the HSS agent status of a simulated Linux profile.
func agentOf(profile string) string {
	switch profile {
	case fleetsim.NoAgent, "windows-agent-absent":
		return "not_installed"
	case fleetsim.AgentStopped:
		return "offline"
	}
	return hsssim.AgentOnline
}

func orLinux(s string) string {
	if s == "" {
		return "linux"
	}
	return s
}

// Getenv looks a variable up in the lab's environment (cloud credentials and
// endpoints, the WinRM password), then in the process's.
func (l *Lab) Getenv(k string) string {
	if v, ok := l.env[k]; ok {
		return v
	}
	return os.Getenv(k)
}

// Env returns the lab's environment as KEY=VALUE lines, sorted.
func (l *Lab) Env() []string {
	var out []string
	for k, v := range l.env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// WriteEnvFile writes the lab's environment as a shell file (mode 0600) for
// `set -a; . FILE` and returns its path.
func (l *Lab) WriteEnvFile() (string, error) {
	path := filepath.Join(l.Dir, "lab.env")
	var b strings.Builder
	b.WriteString("# Credentials of the simulated estate. Load with: set -a; . " + path + "; set +a\n")
	for _, kv := range l.Env() {
		k, v, _ := strings.Cut(kv, "=")
		fmt.Fprintf(&b, "%s='%s'\n", k, v)
	}
	return path, os.WriteFile(path, []byte(b.String()), 0o600)
}

// Close stops every simulated host and the emulator, and removes the
// directory Start made.
func (l *Lab) Close() {
	if l.Fleet != nil {
		l.Fleet.Close()
	}
	if l.WinRM != nil {
		l.WinRM.Close()
	}
	if l.HSS != nil {
		l.HSS.Close()
	}
	if l.tmp {
		os.RemoveAll(l.Dir)
	}
}

// randomHex returns a random string of 2n characters.
func randomHex(n int) string {
	var s string
	for len(s) < 2*n {
		s += rand.Text()
	}
	return strings.ToLower(s[:2*n])
}

// Cloud returns a client of the lab's HSS emulator, with short retries.
func (l *Lab) Cloud() (*cloud.Client, error) {
	creds, err := cloud.CredentialsFromEnv(l.Getenv)
	if err != nil {
		return nil, err
	}
	return cloud.New(creds, cloud.Options{Region: "eu-de", HSSEndpoint: l.Getenv(cloud.EnvHSSEndpoint),
		SMNEndpoint: l.Getenv(cloud.EnvSMNEndpoint), RetryWait: 10 * time.Millisecond, MaxRetryWait: 100 * time.Millisecond})
}

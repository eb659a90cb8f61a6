package inventory

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/factorgate/factorgate/contract"
)

var hssFleet = []contract.CloudHost{
	{HostID: "id-web1", HostName: "web-01", PrivateIP: "10.0.0.1", PublicIP: "203.0.113.1", OSType: "Linux", AgentStatus: "online"},
	{HostID: "id-web2", HostName: "web-02", PrivateIP: "10.0.0.2", OSType: "Linux", AgentStatus: "offline"},
	{HostID: "id-win1", HostName: "win-01", PrivateIP: "10.0.0.3", PublicIP: "203.0.113.3", OSType: "Windows", AgentStatus: "online"},
	{HostID: "id-db1", HostName: "db-01", PrivateIP: "10.0.0.4", OSType: "Linux", AgentStatus: "online"},
	{HostID: "id-byaddr", HostName: "ecs-7f3a", PrivateIP: "10.0.0.9", OSType: "Linux", AgentStatus: "online"},
	{HostID: "id-noip", HostName: "lonely", OSType: "Linux", AgentStatus: "online"},
	{HostID: "id-dup1", HostName: "twin", PrivateIP: "10.0.1.1", OSType: "Linux", AgentStatus: "online"},
	{HostID: "id-dup2", HostName: "twin", PrivateIP: "10.0.1.2", OSType: "Linux", AgentStatus: "online"},
	{HostID: "id-space", HostName: "my host", PrivateIP: "10.0.1.3", OSType: "Linux", AgentStatus: "online"},
}

func resolved(t *testing.T, yaml string, cloud []contract.CloudHost) *Inventory {
	t.Helper()
	inv, err := Parse("/etc/fg/fleet.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	if inv.Discover == nil {
		t.Fatal("Discover not set")
	}
	out, err := inv.Resolve(cloud)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestResolveHSS(t *testing.T) {
	inv := resolved(t, `
defaults:
  ssh: {user: ops, identity_file: keys/id}
  winrm: {user: Administrator, password_env: WIN_PW}
discover:
  hss: {}
hosts:
  - {name: db-01, address: db.example.com, ssh: {user: dba}}
  - {name: legacy, address: 10.0.0.9, port: 2222}
  - {name: front, address: 203.0.113.1}
  - {name: renamed, address: win.example.com, hss_host_id: id-win1, transport: winrm}
`, hssFleet)
	got := map[string]Host{}
	var order []string
	for _, h := range inv.Hosts {
		got[h.Name] = h
		order = append(order, h.Name)
	}
	if want := []string{"db-01", "legacy", "front", "renamed", "web-02"}; !reflect.DeepEqual(order, want) {
		t.Fatalf("hosts %v, want %v (written first, then discovered by name)", order, want)
	}
	ssh := SSHConfig{User: "ops", IdentityFile: "/etc/fg/keys/id"}
	win := WinRMConfig{User: "Administrator", HTTPS: true, Auth: "basic", Password: Secret{Env: "WIN_PW"}}
	want := map[string]Host{
		// Written at web-01's public IP, written with win-01's id.
		"front":   {Name: "front", Address: "203.0.113.1", Transport: "ssh", HSSHostID: "id-web1", Labels: map[string]string{}, Line: 10, SSH: ssh, WinRM: win},
		"renamed": {Name: "renamed", Address: "win.example.com", Port: 5986, Transport: "winrm", OS: "windows", HSSHostID: "id-win1", Labels: map[string]string{}, Line: 11, SSH: ssh, WinRM: win},
		"web-02":  {Name: "web-02", Address: "10.0.0.2", Transport: "ssh", OS: "linux", HSSHostID: "id-web2", Labels: map[string]string{}, Line: 6, SSH: ssh, WinRM: win},
		// Written hosts win, and take the id of the HSS host they stand for.
		"db-01": {Name: "db-01", Address: "db.example.com", Transport: "ssh", HSSHostID: "id-db1", Labels: map[string]string{}, Line: 8,
			SSH: SSHConfig{User: "dba", IdentityFile: "/etc/fg/keys/id"}, WinRM: win},
		"legacy": {Name: "legacy", Address: "10.0.0.9", Port: 2222, Transport: "ssh", HSSHostID: "id-byaddr", Labels: map[string]string{}, Line: 9, SSH: ssh, WinRM: win},
	}
	for name, w := range want {
		if !reflect.DeepEqual(got[name], w) {
			t.Errorf("%s:\n got %+v\nwant %+v", name, got[name], w)
		}
	}
	wantWarn := []string{
		`discover.hss: HSS host "lonely" (id-noip) left out: it has no private ip`,
		`discover.hss: HSS host "my host" (id-space) left out: its name is empty or holds spaces, '=', ',' or control characters`,
		`discover.hss: HSS host "twin" (id-dup1) left out: 2 HSS hosts share its name: write the one to scan under hosts:`,
		`discover.hss: HSS host "twin" (id-dup2) left out: 2 HSS hosts share its name: write the one to scan under hosts:`,
	}
	if !reflect.DeepEqual(inv.Warnings, wantWarn) {
		t.Errorf("warnings:\n got %q\nwant %q", inv.Warnings, wantWarn)
	}
	if again, _ := inv.Resolve(hssFleet); len(again.Hosts) != len(inv.Hosts) {
		t.Errorf("resolving twice added hosts: %d then %d", len(inv.Hosts), len(again.Hosts))
	}
}

func TestResolveHSSFilters(t *testing.T) {
	tests := []struct {
		block string
		want  string
	}{
		{"{os: linux, name: 'web-*'}", "web-01 10.0.0.1,web-02 10.0.0.2"},
		{"{os: [windows], address: public_ip}", "win-01 203.0.113.3"},
		{"{agent_status: online, name: [db-*, web-*]}", "db-01 10.0.0.4,web-01 10.0.0.1"},
		{"{address: public_ip, name: 'web-*'}", "web-01 203.0.113.1"},
		{"{agent_status: [offline, not_installed]}", "web-02 10.0.0.2"},
	}
	for _, tt := range tests {
		t.Run(tt.block, func(t *testing.T) {
			inv := resolved(t, "defaults: {windows_transport: ssh}\ndiscover:\n  hss: "+tt.block+"\n", hssFleet)
			var got []string
			for _, h := range inv.Hosts {
				got = append(got, h.Name+" "+h.Address)
				if h.OS == "windows" && h.Transport != TransportSSH {
					t.Errorf("%s: transport %s, want ssh (defaults.windows_transport)", h.Name, h.Transport)
				}
			}
			if strings.Join(got, ",") != tt.want {
				t.Errorf("got %v, want %s", got, tt.want)
			}
		})
	}
}

func TestResolveHSSErrors(t *testing.T) {
	tests := []struct{ yaml, want string }{
		{"discover: {hss: {}}\n", "f.yaml:1: discover.hss: the Windows host win-01 is reached over winrm, and defaults.winrm names no password_env or password_file"},
	}
	for _, tt := range tests {
		inv, err := Parse("f.yaml", []byte(tt.yaml))
		if err != nil {
			t.Fatal(err)
		}
		_, err = inv.Resolve(hssFleet)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("Resolve error %v, want %q", err, tt.want)
		}
	}
	parseErrs := []struct{ yaml, want string }{
		{"discover: {}\n", "f.yaml:1: discover: name a source: hss"},
		{"discover: {aws: {}}\n", "f.yaml:1: discover.aws: unknown field"},
		{"discover: {hss: {adress: public_ip}}\n", `f.yaml:1: discover.hss.adress: unknown field (did you mean "address"?)`},
		{"discover: {hss: {address: elastic_ip}}\n", `f.yaml:1: discover.hss.address: "elastic_ip" is not one of private_ip, public_ip`},
		{"discover: {hss: {os: solaris}}\n", `f.yaml:1: discover.hss.os: "solaris" is not one of linux, windows`},
		{"discover: {hss: {name: 'web-['}}\n", `f.yaml:1: discover.hss.name: bad glob "web-["`},
		{"discover: {hss: {os: []}}\n", "f.yaml:1: discover.hss.os: the list is empty"},
		{"defaults: {windows_transport: rdp}\ndiscover: {hss: {}}\n", `f.yaml:1: defaults.windows_transport: "rdp" is not one of winrm, ssh`},
		{"defaults: {}\n", "f.yaml:1: no `hosts:` list (or `discover:` block)"},
	}
	for _, tt := range parseErrs {
		_, err := Parse("f.yaml", []byte(tt.yaml))
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("Parse(%q) error %v, want %q", tt.yaml, err, tt.want)
		}
	}
}

// A large HSS fleet resolves in one pass; names stay unique.
func TestResolveHSSLarge(t *testing.T) {
	var cloud []contract.CloudHost
	for i := range 5000 {
		cloud = append(cloud, contract.CloudHost{HostID: fmt.Sprintf("id-%d", i), HostName: fmt.Sprintf("node-%04d", i),
			PrivateIP: fmt.Sprintf("10.%d.%d.%d", i/65536, i/256%256, i%256), OSType: "Linux", AgentStatus: "online"})
	}
	inv := resolved(t, "discover: {hss: {}}\n", cloud)
	if len(inv.Hosts) != 5000 || len(inv.Warnings) != 0 {
		t.Fatalf("%d hosts, warnings %q", len(inv.Hosts), inv.Warnings)
	}
}

func TestLoadRefusesMissingFiles(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"identity file in defaults", "defaults:\n  ssh: {identity_file: keys/none}\nhosts:\n  - {name: a}\n",
			"DIR/fleet.yaml:2: defaults.ssh.identity_file: cannot read DIR/keys/none: no such file or directory"},
		{"identity file of a host", "hosts:\n  - name: a\n    ssh:\n      identity_file: ~/.no-such-key-for-factorgate\n",
			"DIR/fleet.yaml:4: hosts[0].ssh.identity_file: cannot read ~/.no-such-key-for-factorgate: no such file or directory"},
		{"password file", "hosts:\n  - {name: a, ssh: {password_file: secret-path}}\n",
			"DIR/fleet.yaml:2: hosts[0].ssh.password_file: cannot read the file: no such file or directory"},
		{"winrm password file", "defaults:\n  winrm:\n    password_file: /nonexistent/pw\nhosts:\n  - {name: a, transport: winrm}\n",
			"DIR/fleet.yaml:3: defaults.winrm.password_file: cannot read the file: no such file or directory"},
		{"a folder", "hosts:\n  - {name: a, ssh: {identity_file: keys}}\n",
			"DIR/fleet.yaml:2: hosts[0].ssh.identity_file: cannot read DIR/keys: is a directory"},
		{"ca file", "hosts:\n  - {name: a, transport: winrm, winrm: {password_env: P, ca_file: ca.pem}}\n",
			"DIR/fleet.yaml:2: hosts[0].winrm.ca_file: cannot read DIR/ca.pem: no such file or directory"},
		{"unreadable", "hosts:\n  - {name: a, ssh: {identity_file: keys/locked}}\n",
			"DIR/fleet.yaml:2: hosts[0].ssh.identity_file: cannot read DIR/keys/locked: permission denied"},
		{"tokens are the scan's", "hosts:\n  - {name: a, ssh: {identity_file: '%d/.ssh/id_%r'}}\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeTree(t, map[string]string{"fleet.yaml": tt.yaml, "keys/locked": "x"})
			if tt.name == "unreadable" {
				if err := chmod(filepath.Join(dir, "keys/locked"), 0); err != nil {
					t.Skip(err)
				}
				if canRead(filepath.Join(dir, "keys/locked")) {
					t.Skip("running as a user who reads any file")
				}
			}
			_, err := Load(filepath.Join(dir, "fleet.yaml"))
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			want := strings.ReplaceAll(tt.want, "DIR", dir)
			if err == nil || err.Error() != want {
				t.Errorf("Load error\n got %v\nwant %s", err, want)
			}
			// Parse opens nothing: the same bytes load.
			if _, err := Parse(filepath.Join(dir, "fleet.yaml"), []byte(tt.yaml)); err != nil {
				t.Errorf("Parse: %v", err)
			}
		})
	}
}

func chmod(path string, mode os.FileMode) error { return os.Chmod(path, mode) }

func canRead(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	f.Close()
	return true
}

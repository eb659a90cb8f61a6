package inventory

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestLoadInventoryMergesDefaults(t *testing.T) {
	inv, err := Load("testdata/fleet.yaml")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile("testdata/fleet.yaml")
	sum := sha256.Sum256(raw)
	if inv.Digest != hex.EncodeToString(sum[:]) {
		t.Errorf("Digest = %s, want sha256 of the file", inv.Digest)
	}
	if len(inv.Hosts) != 5 {
		t.Fatalf("got %d hosts, want 5", len(inv.Hosts))
	}
	want := map[string]Host{
		"web-01": {Name: "web-01", Address: "10.0.0.5", Port: 22, Transport: "ssh", Labels: map[string]string{"env": "prod", "role": "web"}, Line: 6,
			SSH:   SSHConfig{User: "ops", IdentityFile: "testdata/keys/id_ed25519", KnownHosts: "~/.ssh/known_hosts"},
			WinRM: WinRMConfig{User: "Administrator", HTTPS: true, Auth: "basic", Password: Secret{Env: "WINRM_PASSWORD"}}},
		"web-02": {Name: "web-02", Address: "web-02.example.com", Port: 2222, Transport: "ssh", Labels: map[string]string{"env": "preprod", "role": "web"}, Line: 7,
			SSH:   SSHConfig{User: "ops", IdentityFile: "testdata/keys/id_ed25519", KnownHosts: "~/.ssh/known_hosts"},
			WinRM: WinRMConfig{User: "Administrator", HTTPS: true, Auth: "basic", Password: Secret{Env: "WINRM_PASSWORD"}}},
		"db-01": {Name: "db-01", Address: "10.0.1.7", Port: 22, Transport: "ssh", Labels: map[string]string{"env": "prod", "role": "db"}, Line: 8,
			HSSHostID: "6b8d2a7e-0000-4000-8000-000000000001",
			SSH: SSHConfig{User: "dba", IdentityFile: "testdata/keys/id_ed25519", KnownHosts: "~/.ssh/known_hosts",
				Password: Secret{Env: "DB_PASSWORD"}, ProxyJump: "bastion.example.com", NoSudo: true},
			WinRM: WinRMConfig{User: "Administrator", HTTPS: true, Auth: "basic", Password: Secret{Env: "WINRM_PASSWORD"}}},
		"win-01": {Name: "win-01", Address: "10.0.0.9", Port: 5986, Transport: "winrm", OS: "windows", Labels: map[string]string{}, Line: 17,
			SSH:   SSHConfig{User: "ops", IdentityFile: "testdata/keys/id_ed25519", KnownHosts: "~/.ssh/known_hosts"},
			WinRM: WinRMConfig{User: "Administrator", HTTPS: true, Auth: "basic", Password: Secret{Env: "WINRM_PASSWORD"}}},
		"win-02": {Name: "win-02", Address: "fd00::9", Port: 22, Transport: "ssh", OS: "windows", Labels: map[string]string{"env": "test"}, Line: 18,
			SSH:   SSHConfig{User: "ops", IdentityFile: "testdata/keys/id_ed25519", KnownHosts: "~/.ssh/known_hosts"},
			WinRM: WinRMConfig{User: "Administrator", HTTPS: true, Auth: "basic", Password: Secret{Env: "WINRM_PASSWORD"}}},
	}
	for _, h := range inv.Hosts {
		if !reflect.DeepEqual(h, want[h.Name]) {
			t.Errorf("host %s:\n got %+v\nwant %+v", h.Name, h, want[h.Name])
		}
	}
}

func TestLoadInventoryNameIsAddress(t *testing.T) {
	inv, err := Load("testdata/minimal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	h := inv.Hosts[0]
	if h.Address != "alias-only" || h.Port != 0 || h.SSH.User != "" || h.Transport != "ssh" {
		t.Errorf("got %+v: want address = name, port 0 and user empty (left to ~/.ssh/config)", h)
	}
}

func TestParseInventoryErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"misspelt host field", "hosts:\n  - name: a\n    adress: 10.0.0.1\n",
			`f.yaml:3: hosts[0].adress: unknown field (did you mean "address"?)`},
		{"unknown top field", "defaults: {}\nhost: []\n", `f.yaml:2: host: unknown field (did you mean "hosts"?)`},
		{"unknown ssh field", "defaults:\n  ssh:\n    usr: ops\nhosts: [{name: a}]\n", `f.yaml:3: defaults.ssh.usr: unknown field (did you mean "user"?)`},
		{"password literal", "hosts:\n  - name: a\n    ssh: {password: hunter2}\n", "f.yaml:3: hosts[0].ssh.password: a password may not be written in the inventory"},
		{"winrm password literal", "defaults:\n  winrm:\n    password: x\nhosts: [{name: a}]\n", "f.yaml:3: defaults.winrm.password: a password may not"},
		{"password_env holds a password", "hosts:\n  - {name: a, ssh: {password_env: 'p@ss w0rd'}}\n", "f.yaml:2: hosts[0].ssh.password_env: not an environment variable name"},
		{"password_env holds hunter2", "hosts:\n  - {name: a, ssh: {password_env: 'hunter2!'}}\n", "f.yaml:2: hosts[0].ssh.password_env: not an environment variable name"},
		{"winrm password_env holds hunter2", "hosts:\n  - {name: a, transport: winrm, winrm: {password_env: 'hunter2 x'}}\n", "f.yaml:2: hosts[0].winrm.password_env: not an environment variable name"},
		{"duplicate name", "hosts:\n  - {name: a, address: 10.0.0.1}\n  - {name: a, address: 10.0.0.2}\n", `f.yaml:3: hosts[1]: duplicate host name "a" (first at line 2)`},
		{"duplicate key", "hosts:\n  - name: a\n    name: b\n", "f.yaml:3: hosts[0].name: set twice"},
		{"bad ip", "hosts:\n  - {name: a, address: 10.0.0.300}\n", `f.yaml:2: hosts[0].address: "10.0.0.300": not a valid IP address`},
		{"bad dns", "hosts:\n  - name: a\n    address: bad_host!.com\n", `f.yaml:3: hosts[0].address: "bad_host!.com": not an IP address or DNS name: character '!'`},
		{"bad port", "hosts:\n  - {name: a, port: 70000}\n", `f.yaml:2: hosts[0].port: want a port number 1-65535, got "70000"`},
		{"port as text", "defaults: {ssh: {port: ssh}}\nhosts: [{name: a}]\n", `f.yaml:1: defaults.ssh.port: want a port number 1-65535, got "ssh"`},
		{"bad transport", "hosts:\n  - {name: a, transport: telnet}\n", `f.yaml:2: hosts[0].transport: "telnet" is not one of ssh, winrm`},
		{"winrm linux", "hosts:\n  - {name: a, transport: winrm, os: linux, winrm: {password_env: P}}\n", "f.yaml:2: hosts[0].os: linux hosts are scanned over ssh"},
		{"winrm without password", "hosts:\n  - {name: a, transport: winrm}\n", "f.yaml:2: hosts[0].winrm: no password_env or password_file"},
		{"proxy_jump option", "hosts:\n  - {name: a, ssh: {proxy_jump: -oProxyCommand=x}}\n", "f.yaml:2: hosts[0].ssh.proxy_jump: a jump host may not begin with '-'"},
		{"proxy_jump option in a later hop", "defaults:\n  ssh: {proxy_jump: 'bastion,-J'}\nhosts: [{name: a}]\n", "f.yaml:2: defaults.ssh.proxy_jump: a jump host may not begin with '-'"},
		{"proxy_jump space", "hosts:\n  - {name: a, ssh: {proxy_jump: 'bastion other'}}\n", "f.yaml:2: hosts[0].ssh.proxy_jump: spaces and control characters are not allowed"},
		{"proxy_jump tab", "hosts:\n  - {name: a, ssh: {proxy_jump: \"bastion\\t\"}}\n", "f.yaml:2: hosts[0].ssh.proxy_jump: spaces and control characters are not allowed"},
		{"proxy_jump escape", "hosts:\n  - {name: a, ssh: {proxy_jump: \"bastion\\e[2J\"}}\n", "f.yaml:2: hosts[0].ssh.proxy_jump: spaces and control characters are not allowed"},
		{"proxy_jump empty hop", "hosts:\n  - {name: a, ssh: {proxy_jump: 'a,,b'}}\n", "f.yaml:2: hosts[0].ssh.proxy_jump: empty jump host"},
		{"sudo not a bool", "hosts:\n  - {name: a, ssh: {sudo: maybe}}\n", "f.yaml:2: hosts[0].ssh.sudo: want true or false"},
		{"both password sources", "hosts:\n  - {name: a, ssh: {password_env: P, password_file: /x}}\n", "f.yaml:2: hosts[0].ssh: set password_env or password_file, not both"},
		{"missing name", "hosts:\n  - {address: 10.0.0.1}\n", "f.yaml:2: hosts[0].name: missing"},
		{"name with space", "hosts:\n  - {name: 'a b'}\n", `f.yaml:2: hosts[0].name: "a b": a name may not hold spaces`},
		{"no hosts", "defaults: {}\n", "f.yaml:1: no `hosts:` list"},
		{"empty hosts", "hosts: []\n", "f.yaml:1: hosts: the list is empty"},
		{"empty file", "", "f.yaml:1: empty inventory"},
		{"not a mapping", "- a\n", "f.yaml:1: want a mapping"},
		{"bad yaml", "hosts:\n  - {name: a\n", "f.yaml:1: did not find expected ',' or '}'"},
		{"bool as text", "hosts:\n  - {name: a, ssh: {agent: maybe}}\n", `f.yaml:2: hosts[0].ssh.agent: want true or false, got "maybe"`},
		{"label key with =", "hosts:\n  - {name: a, labels: {'a=b': c}}\n", "f.yaml:2: hosts[0].labels: label key \"a=b\" may not"},
		{"labels not a map", "hosts:\n  - {name: a, labels: [x]}\n", "f.yaml:2: hosts[0].labels: want a mapping, got a list"},
		{"empty user", "hosts:\n  - {name: a, ssh: {user: ''}}\n", "f.yaml:2: hosts[0].ssh.user: empty value"},
		{"allow_basic_over_http not a bool", "hosts:\n  - {name: a, transport: winrm, winrm: {password_env: P, allow_basic_over_http: yes please}}\n", `f.yaml:2: hosts[0].winrm.allow_basic_over_http: want true or false, got "yes please"`},
		{"allow_basic_over_http misspelt", "defaults:\n  winrm: {allow_basic_over_htp: true}\nhosts: [{name: a}]\n", `f.yaml:2: defaults.winrm.allow_basic_over_htp: unknown field (did you mean "allow_basic_over_http"?)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("f.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			var ie *Error
			if !errors.As(err, &ie) {
				t.Errorf("error %T is not an *Error", err)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error:\n got %q\nwant prefix %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error repeats the password: %q", err)
			}
		})
	}
}

func TestSelect(t *testing.T) {
	inv, err := Load("testdata/fleet.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		limit []string
		want  string
		err   string
	}{
		{nil, "web-01 web-02 db-01 win-01 win-02", ""},
		{[]string{"web-*"}, "web-01 web-02", ""},
		{[]string{"env=prod"}, "web-01 db-01", ""},
		{[]string{"env=pr*"}, "web-01 web-02 db-01", ""},
		{[]string{"win-02", "role=db"}, "db-01 win-02", ""},
		{[]string{"web-01", "env=prod"}, "web-01 db-01", ""},
		{[]string{"nope-*"}, "", `limit "nope-*" matches no host in testdata/fleet.yaml`},
		{[]string{"env=dev"}, "", `limit "env=dev" matches no host`},
		{[]string{"web-["}, "", `limit "web-[": bad glob`},
		{[]string{""}, "", "limit: empty pattern"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.limit, ","), func(t *testing.T) {
			hosts, err := inv.Select(tt.limit)
			if tt.err != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.err) {
					t.Fatalf("error = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, h := range hosts {
				names = append(names, h.Name)
			}
			if got := strings.Join(names, " "); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// FuzzParseInventory checks that no input panics the parser, that every
// error is one line naming the file, and that what it accepts holds the
// inventory's promises.
func FuzzParseInventory(f *testing.F) {
	for _, p := range []string{"testdata/fleet.yaml", "testdata/minimal.yaml"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("hosts:\n  - &a {name: a}\n  - *a\n"))
	f.Add([]byte("defaults: {ssh: {password: x}}\nhosts: [{name: a}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		inv, err := Parse("fuzz.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error not one line naming the file: %q", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, h := range inv.Hosts {
			if h.Name == "" || seen[h.Name] {
				t.Fatalf("empty or duplicate name %q accepted", h.Name)
			}
			seen[h.Name] = true
			if ValidAddress(h.Address) != nil {
				t.Fatalf("bad address %q accepted", h.Address)
			}
			if h.Transport != TransportSSH && h.Transport != TransportWinRM {
				t.Fatalf("transport %q accepted", h.Transport)
			}
		}
	})
}

func TestInventoryRelativePaths(t *testing.T) {
	inv, err := Parse("/etc/fg/fleet.yaml", []byte(`defaults:
  ssh: {identity_file: keys/id, known_hosts: ~/.ssh/known_hosts, password_file: /run/pw}
hosts:
  - {name: a, winrm: {ca_file: ca.pem}}
`))
	if err != nil {
		t.Fatal(err)
	}
	h := inv.Hosts[0]
	got := []string{h.SSH.IdentityFile, h.SSH.KnownHosts, h.SSH.Password.File, h.WinRM.CAFile}
	want := []string{"/etc/fg/keys/id", "~/.ssh/known_hosts", "/run/pw", "/etc/fg/ca.pem"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("paths = %q, want %q", got, want)
	}
}

func TestInventoryAllowBasicOverHTTP(t *testing.T) {
	inv, err := Parse("f.yaml", []byte(`defaults:
  winrm: {https: false, allow_basic_over_http: true, password_env: P}
hosts:
  - {name: a, transport: winrm}
  - {name: b, transport: winrm, winrm: {allow_basic_over_http: false}}
  - {name: c, transport: winrm, winrm: {https: true}}
`))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, h := range inv.Hosts {
		got[h.Name] = h.WinRM.AllowBasicOverHTTP
	}
	if want := map[string]bool{"a": true, "b": false, "c": true}; !reflect.DeepEqual(got, want) {
		t.Errorf("allow_basic_over_http = %v, want %v", got, want)
	}
	inv, err = Parse("f.yaml", []byte("hosts:\n  - {name: a, transport: winrm, winrm: {https: false, password_env: P}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if inv.Hosts[0].WinRM.AllowBasicOverHTTP {
		t.Errorf("allow_basic_over_http is on by default")
	}
}

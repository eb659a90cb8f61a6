package inventory

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/factorgate/factorgate/internal/testutil"
)

// ansibleList runs Debian's ansible-inventory --list on file, in an empty
// home so that no user configuration changes what it reads. It skips when
// the tool is missing, unless FACTORGATE_REQUIRE_TOOLS=1.
func ansibleList(t *testing.T, file string) (hostvars map[string]map[string]any, groups map[string]struct {
	Hosts    []string `json:"hosts"`
	Children []string `json:"children"`
}) {
	t.Helper()
	bin := testutil.Tool(t, "ansible-inventory", "apt-get install ansible-core")
	home := t.TempDir()
	cmd := exec.Command(bin, "-i", file, "--list")
	cmd.Env = append(os.Environ(), "HOME="+home, "ANSIBLE_CONFIG="+filepath.Join(home, "none.cfg"),
		"ANSIBLE_INVENTORY_UNPARSED_FAILED=true", "ANSIBLE_LOCAL_TEMP="+home, "ANSIBLE_NOCOLOR=1")
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("ansible-inventory -i %s --list: %v\n%s", file, err, stderr)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(out, &raw); err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Hostvars map[string]map[string]any `json:"hostvars"`
	}
	if err := json.Unmarshal(raw["_meta"], &meta); err != nil {
		t.Fatal(err)
	}
	delete(raw, "_meta")
	groups = map[string]struct {
		Hosts    []string `json:"hosts"`
		Children []string `json:"children"`
	}{}
	for name, body := range raw {
		var g struct {
			Hosts    []string `json:"hosts"`
			Children []string `json:"children"`
		}
		if err := json.Unmarshal(body, &g); err != nil {
			t.Fatal(err)
		}
		groups[name] = g
	}
	return meta.Hostvars, groups
}

// conn is what a host's connection comes to, as the test reads it from
// ansible-inventory's output and as factorgate reads it from the file.
type conn struct {
	Address, Transport, OS, User, IdentityFile, ProxyJump, PasswordEnv, CAFile, Auth string
	Port                                                                             int
	HTTPS, Insecure                                                                  bool
	Groups                                                                           string
}

var (
	jumpRE   = regexp.MustCompile(`(?:-J\s*|-o\s*ProxyJump=)(\S+)`)
	proxyRE  = regexp.MustCompile(`ProxyCommand="ssh -W %h:%p -q (\S+)"`)
	lookupRE = regexp.MustCompile(`^\{\{ lookup\('env', '([A-Za-z_0-9]+)'\) \}\}$`)
)

// fromAnsible reads one host of ansible-inventory's output the way the
// Ansible docs describe the variables, independently of the parser.
func fromAnsible(dir, name string, vars map[string]any, groups []string) (conn, bool) {
	s := func(k string) string {
		if v, ok := vars[k]; ok && v != nil {
			return fmt.Sprint(v)
		}
		return ""
	}
	c := conn{Address: name, Transport: "ssh", Groups: strings.Join(groups, ",")}
	switch s("ansible_connection") {
	case "", "ssh", "smart", "paramiko":
	case "winrm":
		c.Transport, c.OS = "winrm", "windows"
	default:
		return c, false
	}
	if a := s("ansible_host"); a != "" {
		c.Address = a
	}
	fmt.Sscan(s("ansible_port"), &c.Port)
	c.User = s("ansible_user")
	if m := lookupRE.FindStringSubmatch(s("ansible_password")); m != nil {
		c.PasswordEnv = m[1]
	}
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	if c.Transport == "ssh" {
		if st := s("ansible_shell_type"); st == "powershell" || st == "cmd" {
			c.OS = "windows"
		}
		c.IdentityFile = abs(s("ansible_ssh_private_key_file"))
		for _, k := range []string{"ansible_ssh_common_args", "ansible_ssh_extra_args"} {
			if m := jumpRE.FindStringSubmatch(s(k)); m != nil {
				c.ProxyJump = m[1]
			}
			if m := proxyRE.FindStringSubmatch(s(k)); m != nil {
				c.ProxyJump = m[1]
			}
		}
		return c, true
	}
	c.HTTPS = s("ansible_winrm_scheme") == "https" || (s("ansible_winrm_scheme") == "" && c.Port != 5985)
	if c.Port == 0 {
		c.Port = 5985
		if c.HTTPS {
			c.Port = 5986
		}
	}
	c.Auth = "basic"
	switch t := vars["ansible_winrm_transport"].(type) {
	case string:
		if t == "ntlm" {
			c.Auth = "ntlm"
		}
	case []any:
		if fmt.Sprint(t[0]) == "ntlm" {
			c.Auth = "ntlm"
		}
	}
	c.Insecure = s("ansible_winrm_server_cert_validation") == "ignore"
	c.CAFile = abs(s("ansible_winrm_ca_trust_path"))
	return c, true
}

func fromFactorgate(h Host) conn {
	c := conn{Address: h.Address, Transport: h.Transport, OS: h.OS, Port: h.Port}
	g := h.Groups()
	slices.Sort(g)
	c.Groups = strings.Join(g, ",")
	if h.Transport == TransportSSH {
		c.User, c.IdentityFile, c.ProxyJump, c.PasswordEnv = h.SSH.User, h.SSH.IdentityFile, h.SSH.ProxyJump, h.SSH.Password.Env
		return c
	}
	c.User, c.PasswordEnv, c.CAFile, c.Auth, c.HTTPS, c.Insecure = h.WinRM.User, h.WinRM.Password.Env, h.WinRM.CAFile, h.WinRM.Auth, h.WinRM.HTTPS, h.WinRM.Insecure
	return c
}

// TestAnsibleInventoryAsAnsibleReadsIt compares, file by file, the hosts
// and connection variables factorgate reads from an Ansible inventory with
// what Ansible itself makes of the same files (ansible-inventory --list):
// host names, group membership (children included), addresses, ports,
// users, keys, ProxyJump, and WinRM scheme, transport and certificates.
func TestAnsibleInventoryAsAnsibleReadsIt(t *testing.T) {
	for _, file := range []string{"testdata/ansible/ini/hosts.ini", "testdata/ansible/yaml/hosts.yml", "testdata/ansible/precedence/hosts"} {
		t.Run(filepath.Base(file), func(t *testing.T) {
			hostvars, groups := ansibleList(t, file)
			// Each host's groups: those listing it, and their ancestors.
			parents := map[string][]string{}
			for name, g := range groups {
				for _, c := range g.Children {
					parents[c] = append(parents[c], name)
				}
			}
			memberOf := func(host string) []string {
				seen := map[string]bool{}
				var walk func(string)
				walk = func(g string) {
					if seen[g] || g == "all" {
						return
					}
					seen[g] = true
					for _, p := range parents[g] {
						walk(p)
					}
				}
				for name, g := range groups {
					if slices.Contains(g.Hosts, host) {
						walk(name)
					}
				}
				var out []string
				for g := range seen {
					out = append(out, g)
				}
				slices.Sort(out)
				return out
			}
			inv, err := Load(file)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]conn{}
			for _, h := range inv.Hosts {
				got[h.Name] = fromFactorgate(h)
			}
			leftOut := 0
			for name, vars := range hostvars {
				want, scanned := fromAnsible(filepath.Dir(file), name, vars, memberOf(name))
				g, ok := got[name]
				switch {
				case !scanned && ok:
					t.Errorf("%s: ansible_connection %v is not ssh or winrm, yet factorgate kept it", name, vars["ansible_connection"])
				case !scanned:
					leftOut++
				case !ok:
					t.Errorf("%s: Ansible lists it, factorgate does not", name)
				case g != want:
					t.Errorf("%s:\n factorgate %+v\n    ansible %+v", name, g, want)
				}
			}
			if len(inv.Hosts)+leftOut != len(hostvars) {
				t.Errorf("factorgate read %d hosts (%d left out), Ansible %d", len(inv.Hosts), leftOut, len(hostvars))
			}
			if len(inv.Warnings) != leftOut {
				t.Errorf("warnings %q, want one per host left out (%d)", inv.Warnings, leftOut)
			}
		})
	}
}

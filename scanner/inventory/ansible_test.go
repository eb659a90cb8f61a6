package inventory

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// writeTree writes files (path → content) under a temporary folder and
// returns it.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestAnsibleErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string // the error, with DIR for the folder
	}{
		{"literal password inline", map[string]string{"hosts": "[web]\nweb1 ansible_password=hunter2\n"},
			"DIR/hosts:2: ansible_password: a password may not be written in the inventory"},
		{"literal become password in vars", map[string]string{"hosts": "[web]\nweb1\n\n[web:vars]\nansible_become_password=hunter2\n"},
			"DIR/hosts:5: ansible_become_password: a password may not be written in the inventory"},
		{"literal ssh pass in yaml", map[string]string{"hosts.yml": "all:\n  hosts:\n    web1:\n      ansible_ssh_pass: hunter2\n"},
			"DIR/hosts.yml:4: ansible_ssh_pass: a password may not be written"},
		{"literal password in group_vars", map[string]string{"hosts": "[web]\nweb1\n", "group_vars/web.yml": "# vars\nansible_password: hunter2\n"},
			"DIR/group_vars/web.yml:2: ansible_password: a password may not be written"},
		{"literal password in a host_vars folder", map[string]string{"hosts": "web1\n", "host_vars/web1/secrets.yaml": "ansible_password: hunter2\n"},
			"DIR/host_vars/web1/secrets.yaml:1: ansible_password: a password may not be written"},
		{"literal password of an unused group", map[string]string{"hosts": "web1\n", "group_vars/other.yml": "ansible_password: hunter2\n"},
			""},
		{"vault login password", map[string]string{"hosts.yml": "all:\n  hosts:\n    web1:\n      ansible_password: !vault |\n        $ANSIBLE_VAULT;1.1;AES256\n        3331\n"},
			"DIR/hosts.yml:4: ansible_password: a vault-encrypted password cannot be read by factorgate"},
		{"password from a vault variable", map[string]string{"hosts": "web1 ansible_password='{{ vault_web_password }}' ansible_become_password='{{ vault_become }}'\n"},
			"DIR/hosts:1: ansible_password: factorgate reads a password from \"{{ lookup('env', 'NAME') }}\""},
		{"become password from a vault variable", map[string]string{"hosts": "web1 ansible_become_password='{{ vault_become }}'\n"},
			""},
		{"vault file", map[string]string{"hosts": "web1\n", "group_vars/all.yml": "$ANSIBLE_VAULT;1.1;AES256\n6162\n"},
			"DIR/group_vars/all.yml:1: a vault-encrypted file cannot be read"},
		{"proxy command", map[string]string{"hosts": "web1 ansible_ssh_common_args='-o ProxyCommand=\"nc -X connect -x proxy:3128 %h %p\"'\n"},
			"DIR/hosts:1: ansible_ssh_common_args: a ProxyCommand other than \"ssh -W %h:%p [USER@]HOST\" is not followed by factorgate"},
		{"bad port", map[string]string{"hosts": "web1 ansible_port=ssh\n"},
			`DIR/hosts:1: ansible_port: want a port number 1-65535, got "ssh"`},
		{"template", map[string]string{"hosts": "web1 ansible_host='{{ inventory_hostname }}.example.com'\n"},
			"DIR/hosts:1: ansible_host: a template is not read by factorgate"},
		{"bad section", map[string]string{"hosts": "[web:hosts]\nweb1\n"},
			"DIR/hosts:1: section [web:hosts]"},
		{"vars without =", map[string]string{"hosts": "[web:vars]\nansible_user\n"},
			"DIR/hosts:2: [web:vars]: want key=value"},
		{"host arg without =", map[string]string{"hosts": "web1 ansible_user=ops hunter2\n"},
			`DIR/hosts:1: host web1: word 2 after the host is not key=value`},
		{"unclosed quote", map[string]string{"hosts": "web1 ansible_user='ops\n"},
			"DIR/hosts:1: no closing quotation"},
		{"bad range", map[string]string{"hosts": "web[3:1]\n"},
			"DIR/hosts:1: host web[3:1]: range [3:1]: begins after it ends"},
		{"loop", map[string]string{"hosts": "[a:children]\nb\n[b:children]\na\n[a]\nh1\n"},
			"is its own child"},
		{"yaml unknown key", map[string]string{"hosts.yml": "all:\n  hostz:\n    web1:\n"},
			"DIR/hosts.yml:2: group all: hostz: unknown key (want hosts, vars or children)"},
		{"winrm without password", map[string]string{"hosts": "[win]\nw1 ansible_connection=winrm\n"},
			"DIR/hosts:2: host w1: a winrm host needs its password's source"},
		{"missing key file", map[string]string{"hosts": "web1\n[all:vars]\nansible_ssh_private_key_file=keys/none\n"},
			"DIR/hosts:3: ansible_ssh_private_key_file: cannot read DIR/keys/none: no such file or directory"},
		{"missing password file", map[string]string{"hosts": "web1 ansible_password=\"{{ lookup('file', 'pw.txt') }}\"\n"},
			"DIR/hosts:1: password file: cannot read the file: no such file or directory"},
		{"missing ca file", map[string]string{"hosts": "w1 ansible_connection=winrm factorgate_password_env=PW ansible_winrm_ca_trust_path=/nonexistent/ca.pem\n"},
			"DIR/hosts:1: ansible_winrm_ca_trust_path: cannot read /nonexistent/ca.pem: no such file or directory"},
		{"inventory plugin", map[string]string{"aws_ec2.yml": "# dynamic\nplugin: amazon.aws.aws_ec2\nregions: [eu-west-1]\n"},
			"DIR/aws_ec2.yml:2: plugin: amazon.aws.aws_ec2: an inventory plugin's configuration is run by Ansible, not read by factorgate: give factorgate its output, ansible-inventory -i aws_ec2.yml --list --yaml > hosts.yml"},
		{"bad name", map[string]string{"hosts.yml": "all:\n  hosts:\n    'web 1':\n"},
			`DIR/hosts.yml:3: host "web 1": a name may not hold spaces`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeTree(t, tt.files)
			var main string
			for name := range tt.files {
				if !strings.Contains(name, "/") {
					main = filepath.Join(dir, name)
				}
			}
			_, err := Load(main)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				return
			}
			want := strings.ReplaceAll(tt.want, "DIR", dir)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("Load error = %v\nwant it to hold %q", err, want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error repeats the password: %v", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("the error is not one line: %q", err)
			}
		})
	}
}

func TestAnsiblePasswordSources(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"hosts": `[win]
w1 ansible_password="{{ lookup('env', 'WIN_PW') }}"
w2 factorgate_password_env=OTHER_PW
w3 ansible_password="{{ lookup('file', 'secrets/w3') }}"

[win:vars]
ansible_connection=winrm
ansible_become_password="{{ lookup('env', 'BECOME') }}"
`,
		"secrets/w3": "pw\n",
	})
	inv, err := Load(filepath.Join(dir, "hosts"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Secret{"w1": {Env: "WIN_PW"}, "w2": {Env: "OTHER_PW"}, "w3": {File: filepath.Join(dir, "secrets/w3")}}
	for _, h := range inv.Hosts {
		if h.WinRM.Password != want[h.Name] {
			t.Errorf("%s: password source %+v, want %+v", h.Name, h.WinRM.Password, want[h.Name])
		}
	}
}

func TestAnsibleLeftOut(t *testing.T) {
	dir := writeTree(t, map[string]string{"hosts": "web1\nlocalhost ansible_connection=local\n[win]\nw1 ansible_connection=winrm ansible_winrm_transport=kerberos\n"})
	inv, err := Load(filepath.Join(dir, "hosts"))
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Hosts) != 1 || inv.Hosts[0].Name != "web1" {
		t.Fatalf("hosts = %+v, want web1 alone", inv.Hosts)
	}
	want := []string{
		dir + "/hosts:2: host localhost left out: ansible_connection local is not a connection factorgate makes (ssh or winrm)",
		dir + "/hosts:4: host w1 left out: ansible_winrm_transport kerberos: factorgate logs in to WinRM by basic or ntlm only",
	}
	if !reflect.DeepEqual(inv.Warnings, want) {
		t.Errorf("warnings\n got %q\nwant %q", inv.Warnings, want)
	}
}

func TestAnsibleGroupsSelect(t *testing.T) {
	dir := writeTree(t, map[string]string{"hosts": "loose\n[web]\nweb1\nweb2\n[db]\ndb1\nweb2\n[prod:children]\nweb\ndb\n"})
	inv, err := Load(filepath.Join(dir, "hosts"))
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string][]string{
		"group=web":       {"web1", "web2"},
		"group=db":        {"web2", "db1"},
		"group=prod":      {"web1", "web2", "db1"},
		"group=ungrouped": {"loose"},
		"group=w*":        {"web1", "web2"},
		"group.db=true":   {"web2", "db1"},
	}
	for limit, want := range tests {
		hosts, err := inv.Select([]string{limit})
		if err != nil {
			t.Fatalf("%s: %v", limit, err)
		}
		var got []string
		for _, h := range hosts {
			got = append(got, h.Name)
		}
		if !slices.Equal(got, want) {
			t.Errorf("--limit %s = %v, want %v", limit, got, want)
		}
	}
	if _, err := inv.Select([]string{"group=all"}); err == nil {
		t.Errorf("--limit group=all selected hosts: all is no label")
	}
}

func TestIsAnsible(t *testing.T) {
	tests := []struct {
		file, body string
		want       bool
	}{
		{"fleet.yaml", "hosts:\n  - {name: a}\n", false},
		{"fleet.yaml", "defaults: {}\nhosts: []\n", false},
		{"fleet.yaml", "discover: {hss: {}}\n", false},
		{"fleet.yaml", "hosts: [oops\n", false}, // a broken factorgate file keeps its YAML error
		{"fleet.yaml", "", false},
		{"fleet.yaml", "hosts:\n", false},
		{"hosts.yml", "all:\n  hosts:\n    a:\n", true},
		{"hosts", "web:\n  hosts: {a: }\n", true},
		{"hosts", "[web]\na\n", true},
		{"hosts.ini", "a ansible_host=1.2.3.4\n", true},
		{"inventory", "a\nb\n", true},
	}
	for _, tt := range tests {
		if got := isAnsible(tt.file, []byte(tt.body), decode([]byte(tt.body))); got != tt.want {
			t.Errorf("isAnsible(%s, %q) = %v, want %v", tt.file, tt.body, got, tt.want)
		}
	}
}

func TestShellSplitAndRanges(t *testing.T) {
	split := map[string][]string{
		`a b=c`:                 {"a", "b=c"},
		`a b='c d' # comment`:   {"a", "b=c d"},
		`a b="c \"d\""`:         {"a", `b=c "d"`},
		`a b=c\ d`:              {"a", "b=c d"},
		`a b=x#y`:               {"a", "b=x"},
		`a  "b"'c'`:             {"a", "bc"},
		`host:2222 a=1`:         {"host:2222", "a=1"},
		`web[01:03] x='1 2' y=`: {"web[01:03]", "x=1 2", "y="},
	}
	for in, want := range split {
		got, err := shellSplit(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("shellSplit(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	ranges := map[string][]string{
		"web[01:03]":     {"web01", "web02", "web03"},
		"web[1:10:4].ex": {"web1.ex", "web5.ex", "web9.ex"},
		"db-[a:c]":       {"db-a", "db-b", "db-c"},
		"r[1:2]c[a:b]":   {"r1ca", "r1cb", "r2ca", "r2cb"},
		"plain":          {"plain"},
		"[:2]x":          {"0x", "1x", "2x"},
	}
	for in, want := range ranges {
		got, err := expandRange(in, 0)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("expandRange(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := expandRange("h[0:999999]", 0); err == nil {
		t.Errorf("a range of a million hosts was expanded")
	}
	ports := map[string][2]string{
		"web:22": {"web", "22"}, "web": {"web", ""}, "fd00::1": {"fd00::1", ""}, "[fd00::1]:22": {"fd00::1", "22"},
		"web[1:3]:2222": {"web[1:3]", "2222"}, "web[1:3]": {"web[1:3]", ""},
	}
	for in, want := range ports {
		if n, p := splitHostPort(in); n != want[0] || p != want[1] {
			t.Errorf("splitHostPort(%q) = %q, %q; want %q", in, n, p, want)
		}
	}
}

func TestProxyJumpOf(t *testing.T) {
	good := map[string]string{
		"-J bastion":         "bastion",
		"-Jops@bastion:2222": "ops@bastion:2222",
		"-o ProxyJump=a,b":   "a,b",
		"-oProxyJump=a":      "a",
		`-o "ProxyJump a"`:   "a",
		"-o StrictHostKeyChecking=yes -o Port=22":               "",
		"-o ProxyJump=none":                                     "",
		"-J first -o ProxyJump=second":                          "first",
		`-o ProxyCommand="ssh -W %h:%p -q ops@bastion"`:         "ops@bastion",
		`-o 'ProxyCommand=ssh -q -p 2222 -l ops -W %h:%p jump'`: "ops@jump:2222",
	}
	for in, want := range good {
		got, err := proxyJumpOf(in)
		if err != nil || got != want {
			t.Errorf("proxyJumpOf(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"-J", "-o ProxyCommand=nc", "-J -oops", "-J a,,b",
		`-o ProxyCommand="ssh -W %h:%p -i key bastion"`, `-o ProxyCommand="ssh bastion nc %h %p"`, `-o ProxyCommand="ssh -W %h:%p"`} {
		if got, err := proxyJumpOf(in); err == nil {
			t.Errorf("proxyJumpOf(%q) = %q, want an error", in, got)
		}
	}
}

func FuzzParseAnsible(f *testing.F) {
	for _, s := range []string{"[web]\nweb[01:03] ansible_port=22\n[web:vars]\na=b\n", "all:\n  hosts:\n    a:\n      ansible_host: 1.2.3.4\n", "a:22 b='c d'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		inv, err := ParseAnsible(filepath.Join(t.TempDir(), "hosts"), []byte(s))
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error not one line: %q", err)
			}
			return
		}
		for _, h := range inv.Hosts {
			if h.Name == "" || ValidAddress(h.Address) != nil {
				t.Fatalf("host %+v: empty name or bad address", h)
			}
		}
	})
}

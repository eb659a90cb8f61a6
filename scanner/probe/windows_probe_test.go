package probe

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/internal/testutil"
)

func TestWindowsProbeCommand(t *testing.T) {
	if n := len(WindowsCommand); n > 8191 {
		t.Errorf("WindowsCommand is %d characters; cmd.exe refuses more than 8191", n)
	}
	script, ok := DecodePowerShell(WindowsCommand)
	if !ok {
		t.Fatalf("WindowsCommand is not an encoded PowerShell command line: %.80s", WindowsCommand)
	}
	if script != compactPS(windowsProbeScript) {
		t.Errorf("decoded script differs from the source script")
	}
	for _, want := range []string{
		"ConvertTo-Json -Depth 4 -Compress",
		"try{Get-CimInstance $c @a}catch{Get-WmiObject $c @a}",
		"W Win32_OperatingSystem",
		"W Win32_ComputerSystem",
		`W Win32_Service "Name='TermService'"`,
		"fEnableWinStation",
		"Get-NetFirewallRule -Group '@FirewallAPI.dll,-28752'",
		"Get-NetFirewallRule -DisplayGroup 'Remote Desktop'",
		"if(!($r.domain_role -ge 4))",
		"'" + WindowsBegin + "'\n$r|ConvertTo-Json -Depth 4 -Compress\n'" + WindowsEnd + "'",
		`HKLM:\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services`,
		`WinNT://`,
		"Get-Service -Name HostGuard",
		`C:\Program Files\HostGuard`,
	} {
		if !strings.Contains(script, want) {
			t.Errorf("probe script lacks %q", want)
		}
	}
	// Read-only: no cmdlet or tool that changes the host.
	writes := regexp.MustCompile(`(?i)\b(Set|Remove|New|Stop|Start|Restart|Rename|Clear|Add|Disable|Enable)-[A-Za-z]+|Invoke-Expression|\biex\b|Out-File|net user|reg add|sc\.exe`)
	if m := writes.FindString(script); m != "" {
		t.Errorf("probe script is not read-only: it uses %q", m)
	}
	// Windows PowerShell 4.0 (Server 2012 R2): nothing that came later.
	ps5 := regexp.MustCompile(`::new\(|(?m)^class |(?m)^using |Get-LocalUser|Get-ComputerInfo|\.StartType|-AsHashtable|Get-Service[^|;]*StartType`)
	if m := ps5.FindString(script); m != "" {
		t.Errorf("probe script uses %q, which Windows PowerShell 4.0 lacks", m)
	}
	if strings.Count(script, "try{") != strings.Count(script, "catch{") {
		t.Errorf("every try needs its catch: %d try, %d catch", strings.Count(script, "try{"), strings.Count(script, "catch{"))
	}
}

func TestEncodePowerShellRoundTrip(t *testing.T) {
	for _, s := range []string{"", "Get-Date", "'ä' + \"€\" + '𝄞'", "a\r\nb"} {
		got, ok := DecodePowerShell(EncodePowerShell(s))
		if !ok || got != s {
			t.Errorf("round trip of %q gave %q, %v", s, got, ok)
		}
	}
	// The UTF-16LE bytes of "ab" are 61 00 62 00, base64 YQBiAA==.
	if got := EncodePowerShell("ab"); !strings.HasSuffix(got, " -EncodedCommand YQBiAA==") {
		t.Errorf("EncodePowerShell(ab) = %q", got)
	}
	for _, bad := range []string{"cmd /c dir", "powershell.exe -NoProfile -NonInteractive -EncodedCommand !!!", "powershell.exe -NoProfile -NonInteractive -EncodedCommand YQ=="} {
		if _, ok := DecodePowerShell(bad); ok {
			t.Errorf("DecodePowerShell(%q) accepted it", bad)
		}
	}
}

// windowsSections is the part of Facts the Windows probe fills.
type windowsSections struct {
	OS               *contract.OS       `json:"os"`
	RDP              *contract.RDP      `json:"rdp"`
	Accounts         []contract.Account `json:"accounts"`
	HSS              *contract.HSS      `json:"hss"`
	SecurityProducts []string           `json:"security_products"`
}

func TestWindowsProbeGolden(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "windows", "*", "stdout.txt"))
	if err != nil || len(dirs) < 4 {
		t.Fatalf("want the four captured systems, found %v (%v)", dirs, err)
	}
	for _, path := range dirs {
		dir := filepath.Dir(path)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			out, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var f contract.Facts
			if err := ParseWindows(out, &f); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			got, err := json.MarshalIndent(windowsSections{f.OS, f.RDP, f.Accounts, f.HSS, f.SecurityProducts}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := filepath.Join(dir, "facts.golden.json")
			if testutil.Update() {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s: facts differ from %s:\n got: %s\nwant: %s", path, golden, got, want)
			}
		})
	}
}

// TestWindowsProbeSystems states what each captured system must yield,
// independently of the golden files.
func TestWindowsProbeSystems(t *testing.T) {
	tests := []struct {
		system         string
		version, build string
		rdpEnabled     bool
		policy         bool
		port           int
		mustChange     []string // enabled accounts that must change their password
		installed      bool
		running        bool
		products       []string
		firewall       bool
		role           int
	}{
		{"server-2012r2", "6.3.9600", "9600", true, false, 3389, nil, true, true, []string{}, true, 2},
		{"server-2016", "10.0.14393", "14393", false, false, 3389, nil, true, true, []string{}, false, 3},
		{"server-2019", "10.0.17763", "17763", false, true, 3389, []string{"Administrator"}, true, false, []string{}, true, 2},
		{"server-2022", "10.0.20348", "20348", true, false, 3390, nil, false, false, []string{"360 Guard"}, true, 2},
	}
	for _, tt := range tests {
		t.Run(tt.system, func(t *testing.T) {
			out, err := os.ReadFile(filepath.Join("testdata", "windows", tt.system, "stdout.txt"))
			if err != nil {
				t.Fatal(err)
			}
			var f contract.Facts
			if err := ParseWindows(out, &f); err != nil {
				t.Fatal(err)
			}
			if *f.OS.Family != "windows" || *f.OS.Version != tt.version || *f.OS.Build != tt.build {
				t.Errorf("os = %s %s %s", *f.OS.Family, *f.OS.Version, *f.OS.Build)
			}
			if !strings.HasPrefix(*f.OS.Name, "Microsoft Windows Server") {
				t.Errorf("os name = %q", *f.OS.Name)
			}
			if *f.RDP.FirewallEnabled != tt.firewall || *f.RDP.ServiceStartMode != "Manual" || !*f.RDP.WinStationEnabled || *f.OS.DomainRole != tt.role {
				t.Errorf("rdp firewall %v service %s winstation %v, domain role %d", *f.RDP.FirewallEnabled, *f.RDP.ServiceStartMode, *f.RDP.WinStationEnabled, *f.OS.DomainRole)
			}
			if *f.RDP.Enabled != tt.rdpEnabled || *f.RDP.PolicyOverride != tt.policy || *f.RDP.Port != tt.port {
				t.Errorf("rdp = enabled %v policy %v port %v", *f.RDP.Enabled, *f.RDP.PolicyOverride, *f.RDP.Port)
			}
			var must []string
			for _, a := range f.Accounts {
				if *a.Enabled && *a.MustChangePassword {
					must = append(must, a.Name)
				}
			}
			if strings.Join(must, ",") != strings.Join(tt.mustChange, ",") {
				t.Errorf("enabled accounts that must change password = %v, want %v", must, tt.mustChange)
			}
			if *f.HSS.AgentInstalled != tt.installed || *f.HSS.AgentRunning != tt.running {
				t.Errorf("agent installed %v running %v", *f.HSS.AgentInstalled, *f.HSS.AgentRunning)
			}
			if strings.Join(f.SecurityProducts, ",") != strings.Join(tt.products, ",") || f.SecurityProducts == nil {
				t.Errorf("security products = %#v, want %#v", f.SecurityProducts, tt.products)
			}
		})
	}
}

// probeDoc builds a probe document from a base with some top-level keys
// replaced by raw JSON.
func winProbeDoc(t *testing.T, replace map[string]string) []byte {
	t.Helper()
	base := map[string]json.RawMessage{
		"schema":      json.RawMessage(`"factorgate/windows-probe/v1"`),
		"os":          json.RawMessage(`{"caption":"Microsoft Windows Server 2019 Datacenter","version":"10.0.17763","build":"17763"}`),
		"domain_role": json.RawMessage(`2`),
		"rdp":         json.RawMessage(`{"deny":0,"policy_deny":null,"port":3389,"nla":1,"win_station":1,"service_start_mode":"Manual","fw_rules":3,"fw_enabled":3}`),
		"accounts":    json.RawMessage(`[{"name":"Administrator","user_flags":66049,"password_expired":0}]`),
		"hostguard":   json.RawMessage(`{"service":"Running","dir":true,"processes":["HostGuard","HostWatch"]}`),
		"security":    json.RawMessage(`{"services":[],"dirs":[],"antivirus":null}`),
		"errors":      json.RawMessage(`[]`),
	}
	for k, v := range replace {
		if v == "" {
			delete(base, k)
			continue
		}
		base[k] = json.RawMessage(v)
	}
	b, err := json.Marshal(base)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseWindowsProbe(t *testing.T) {
	type want struct {
		rdp       string // enabled/policy/port/nla, "nil" for no section
		accounts  string // name:enabled:must,...; "nil" for unknown
		agent     string // installed/running
		products  string // comma list; "nil" for unknown
		osVersion string
	}
	tests := []struct {
		name    string
		in      []byte
		want    want
		wantErr string
	}{
		{name: "plain", in: winProbeDoc(t, nil),
			want: want{"true/false/3389/true", "Administrator:true:false", "true/true", "", "10.0.17763"}},
		{name: "bom and crlf", in: append(append([]byte("\xef\xbb\xbf\r\n"), winProbeDoc(t, nil)...), "\r\n"...),
			want: want{"true/false/3389/true", "Administrator:true:false", "true/true", "", "10.0.17763"}},
		{name: "single account as an object", in: winProbeDoc(t, map[string]string{"accounts": `{"name":"Administrator","user_flags":66049,"password_expired":1}`}),
			want: want{"true/false/3389/true", "Administrator:true:true", "true/true", "", "10.0.17763"}},
		{name: "array in a value/Count wrapper", in: winProbeDoc(t, map[string]string{"accounts": `{"value":[{"name":"a","user_flags":513,"password_expired":0},{"name":"b","user_flags":515,"password_expired":1}],"Count":2}`}),
			want: want{"true/false/3389/true", "a:true:false,b:false:true", "true/true", "", "10.0.17763"}},
		{name: "numbers as strings", in: winProbeDoc(t, map[string]string{
			"rdp":      `{"deny":"0","policy_deny":null,"port":"3390","nla":"0","win_station":"1","service_start_mode":"Auto"}`,
			"accounts": `[{"name":"Administrator","user_flags":"66049","password_expired":"1"}]`}),
			want: want{"true/false/3390/false", "Administrator:true:true", "true/true", "", "10.0.17763"}},
		{name: "booleans as strings, one process as a string", in: winProbeDoc(t, map[string]string{"hostguard": `{"service":"Stopped","dir":"True","processes":"HostWatch"}`}),
			want: want{"true/false/3389/true", "Administrator:true:false", "true/false", "", "10.0.17763"}},
		{name: "group policy denies", in: winProbeDoc(t, map[string]string{"rdp": `{"deny":0,"policy_deny":1,"port":3389,"nla":1,"win_station":1,"service_start_mode":"Auto"}`}),
			want: want{"false/true/3389/true", "Administrator:true:false", "true/true", "", "10.0.17763"}},
		{name: "group policy allows what the local value denies", in: winProbeDoc(t, map[string]string{"rdp": `{"deny":1,"policy_deny":0,"port":3389,"nla":1,"win_station":1,"service_start_mode":"Auto"}`}),
			want: want{"true/true/3389/true", "Administrator:true:false", "true/true", "", "10.0.17763"}},
		{name: "policy unreadable makes rdp unknown", in: winProbeDoc(t, map[string]string{"errors": `["rdp.policy: Requested registry access is not allowed."]`}),
			want: want{"nil/nil/3389/true", "Administrator:true:false", "true/true", "", "10.0.17763"}},
		{name: "rdp section missing", in: winProbeDoc(t, map[string]string{"rdp": "null"}),
			want: want{"nil", "Administrator:true:false", "true/true", "", "10.0.17763"}},
		{name: "accounts failed", in: winProbeDoc(t, map[string]string{"accounts": "null", "errors": `["accounts: Access is denied."]`}),
			want: want{"true/false/3389/true", "nil", "true/true", "", "10.0.17763"}},
		{name: "no accounts", in: winProbeDoc(t, map[string]string{"accounts": "[]"}),
			want: want{"true/false/3389/true", "", "true/true", "", "10.0.17763"}},
		{name: "agent absent", in: winProbeDoc(t, map[string]string{"hostguard": `{"service":"absent","dir":false,"processes":[]}`}),
			want: want{"true/false/3389/true", "Administrator:true:false", "false/false", "", "10.0.17763"}},
		{name: "agent service unreadable, directory present", in: winProbeDoc(t, map[string]string{"hostguard": `{"service":null,"dir":true,"processes":null}`, "errors": `["hostguard.service: x","hostguard.processes: y"]`}),
			want: want{"true/false/3389/true", "Administrator:true:false", "true/nil", "", "10.0.17763"}},
		{name: "agent unknown", in: winProbeDoc(t, map[string]string{"hostguard": `{"service":null,"dir":null,"processes":null}`}),
			want: want{"true/false/3389/true", "Administrator:true:false", "nil/nil", "", "10.0.17763"}},
		{name: "360 and G01", in: winProbeDoc(t, map[string]string{"security": `{"services":["360rp","G01Svc"],"dirs":[],"antivirus":["Windows Defender","360 Total Security"]}`}),
			want: want{"true/false/3389/true", "Administrator:true:false", "true/true", "360 Guard,G01", "10.0.17763"}},
		{name: "only an unrelated antivirus", in: winProbeDoc(t, map[string]string{"security": `{"services":[],"dirs":[],"antivirus":"Windows Defender"}`}),
			want: want{"true/false/3389/true", "Administrator:true:false", "true/true", "", "10.0.17763"}},
		{name: "security unreadable", in: winProbeDoc(t, map[string]string{"security": `{"services":null,"dirs":null,"antivirus":null}`, "errors": `["security.services: x","security.dirs: y"]`}),
			want: want{"true/false/3389/true", "Administrator:true:false", "true/true", "nil", "10.0.17763"}},
		{name: "os unreadable", in: winProbeDoc(t, map[string]string{"os": "null", "errors": `["os: Invalid class"]`}),
			want: want{"true/false/3389/true", "Administrator:true:false", "true/true", "", ""}},

		{name: "empty", in: []byte("\r\n"), wantErr: "empty output"},
		{name: "garbage", in: []byte("'powershell.exe' is not recognized as an internal or external command"), wantErr: "does not start with a JSON object"},
		{name: "clixml on stdout", in: []byte("#< CLIXML\r\n<Objs Version=\"1.1.0.1\"/>"), wantErr: "does not start with a JSON object"},
		{name: "truncated", in: winProbeDoc(t, nil)[:100], wantErr: "unexpected EOF"},
		{name: "two documents", in: append(winProbeDoc(t, nil), winProbeDoc(t, nil)...), wantErr: "trailing data"},
		{name: "wrong schema", in: winProbeDoc(t, map[string]string{"schema": `"other"`}), wantErr: `schema "other"`},
		{name: "no schema", in: []byte(`{"os":null}`), wantErr: `schema ""`},
		{name: "port not a number", in: winProbeDoc(t, map[string]string{"rdp": `{"deny":0,"port":"RDP","nla":1,"win_station":1,"service_start_mode":"Auto"}`}), wantErr: "want an integer"},
		{name: "deny a boolean", in: winProbeDoc(t, map[string]string{"rdp": `{"deny":true}`}), wantErr: "want an integer"},
		{name: "account name a number", in: winProbeDoc(t, map[string]string{"accounts": `[{"name":7}]`}), wantErr: "want a string"},
		{name: "account without name", in: winProbeDoc(t, map[string]string{"accounts": `[{"user_flags":513}]`}), wantErr: "accounts[0] has no name"},
		{name: "wrapper count mismatch", in: winProbeDoc(t, map[string]string{"accounts": `{"value":[],"Count":2}`}), wantErr: "Count 2"},
		{name: "dir a number", in: winProbeDoc(t, map[string]string{"hostguard": `{"dir":1}`}), wantErr: "want a boolean"},
		{name: "os a string", in: winProbeDoc(t, map[string]string{"os": `"Windows"`}), wantErr: "cannot unmarshal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := contract.Facts{OS: &contract.OS{Family: contract.Ptr("sentinel")}}
			err := ParseWindows(tt.in, &f)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrWindowsOutput) {
					t.Fatalf("err = %v, want one containing %q that wraps ErrWindowsOutput", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error spans lines: %q", err)
				}
				if *f.OS.Family != "sentinel" {
					t.Errorf("facts changed on error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := want{
				rdp:       winFmtRDP(f.RDP),
				accounts:  winFmtAccounts(f.Accounts),
				agent:     winFmtBool(f.HSS.AgentInstalled) + "/" + winFmtBool(f.HSS.AgentRunning),
				products:  "nil",
				osVersion: winDeref(f.OS.Version),
			}
			if f.SecurityProducts != nil {
				got.products = strings.Join(f.SecurityProducts, ",")
			}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
			if *f.OS.Family != "windows" {
				t.Errorf("os family = %q", *f.OS.Family)
			}
		})
	}
}

func winFmtBool(b *bool) string {
	if b == nil {
		return "nil"
	}
	if *b {
		return "true"
	}
	return "false"
}

func winDeref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func winFmtRDP(r *contract.RDP) string {
	if r == nil {
		return "nil"
	}
	port := "nil"
	if r.Port != nil {
		port = strconv.Itoa(*r.Port)
	}
	return winFmtBool(r.Enabled) + "/" + winFmtBool(r.PolicyOverride) + "/" + port + "/" + winFmtBool(r.NLA)
}

func winFmtAccounts(as []contract.Account) string {
	if as == nil {
		return "nil"
	}
	var parts []string
	for _, a := range as {
		parts = append(parts, a.Name+":"+winFmtBool(a.Enabled)+":"+winFmtBool(a.MustChangePassword))
	}
	return strings.Join(parts, ",")
}

func TestParseWindowsSSHBanner(t *testing.T) {
	tests := []struct {
		banner       string
		wantNil      bool
		version      string
		major, minor int
	}{
		{banner: "SSH-2.0-OpenSSH_for_Windows_8.1", version: "8.1", major: 8, minor: 1},
		{banner: "SSH-2.0-OpenSSH_for_Windows_9.5\r\n", version: "9.5", major: 9, minor: 5},
		{banner: "SSH-2.0-OpenSSH_for_Windows_7.7", version: "7.7", major: 7, minor: 7},
		{banner: "SSH-2.0-OpenSSH_7.4p1", version: "7.4p1", major: 7, minor: 4},
		{banner: "SSH-2.0-WeOnlyDo 2.4.3", version: ""},
		{banner: "SSH-2.0-X_3.1 compatible-with-OpenSSH_for_Windows_8.1", version: ""},
		{banner: "", wantNil: true},
	}
	for _, tt := range tests {
		t.Run(tt.banner, func(t *testing.T) {
			var f contract.Facts
			ParseWindowsSSHBanner(tt.banner, &f)
			if tt.wantNil {
				if f.OpenSSH != nil {
					t.Fatalf("openssh = %+v, want nil", f.OpenSSH)
				}
				return
			}
			o := f.OpenSSH
			wantSource := "banner"
			if tt.version == "" {
				wantSource = "banner: not OpenSSH"
			}
			if o == nil || !o.Windows || o.Source != wantSource || *o.Banner != strings.TrimSpace(tt.banner) {
				t.Fatalf("openssh = %+v", o)
			}
			if tt.version == "" {
				if o.Version != nil || o.Major != nil {
					t.Errorf("version = %v, want unknown", *o.Version)
				}
				return
			}
			if *o.Version != tt.version || *o.Major != tt.major || *o.Minor != tt.minor {
				t.Errorf("version %s major %d minor %d", *o.Version, *o.Major, *o.Minor)
			}
		})
	}
}

func FuzzParseWindowsProbe(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "windows", "*", "stdout.txt"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"schema":"factorgate/windows-probe/v1","accounts":{"value":[{"name":"a","user_flags":"2"}],"Count":1}}`))
	f.Add([]byte(`{"schema":"factorgate/windows-probe/v1","rdp":{"deny":"1","policy_deny":0},"errors":"rdp.port: x"}`))
	f.Add([]byte("\xef\xbb\xbf{}"))
	f.Add([]byte("garbage"))
	f.Add([]byte("Active code page: 65001\r\n" + WindowsBegin + "\r\n" + `{"schema":"factorgate/windows-probe/v1","domain_role":5,"rdp":{"deny":0,"win_station":0,"service_start_mode":"Disabled","fw_rules":3,"fw_enabled":0},"accounts":[{"name":"a","password_expired":2}]}` + "\r\n" + WindowsEnd + "\r\nWARNING: x\r\n"))
	f.Add([]byte(WindowsBegin + "\n" + WindowsEnd))
	f.Add([]byte(WindowsEnd + "\n{}\n" + WindowsBegin))
	f.Fuzz(func(t *testing.T, out []byte) {
		var a, b contract.Facts
		errA := ParseWindows(out, &a)
		errB := ParseWindows(out, &b)
		if (errA == nil) != (errB == nil) {
			t.Fatalf("parse is not deterministic: %v vs %v", errA, errB)
		}
		if errA != nil {
			if !errors.Is(errA, ErrWindowsOutput) {
				t.Fatalf("error does not wrap ErrWindowsOutput: %v", errA)
			}
			if a.OS != nil || a.RDP != nil || a.Accounts != nil || a.HSS != nil {
				t.Fatalf("facts filled despite error %v", errA)
			}
			return
		}
		if a.OS == nil || a.OS.Family == nil || *a.OS.Family != "windows" {
			t.Fatalf("os family not windows")
		}
		for _, acc := range a.Accounts {
			if strings.TrimSpace(acc.Name) == "" {
				t.Fatalf("account without a name")
			}
		}
		if a.OS.DomainRole != nil && *a.OS.DomainRole >= 4 && a.Accounts != nil {
			t.Fatalf("a domain controller has accounts")
		}
		if r := a.RDP; r != nil && r.Enabled != nil && *r.Enabled &&
			(r.ServiceStartMode == nil || *r.ServiceStartMode == "Disabled" || r.WinStationEnabled == nil || !*r.WinStationEnabled) {
			t.Fatalf("rdp enabled without the service and the listener known to be on: %+v", r)
		}
		if a.RDP != nil && a.RDP.Port != nil && (*a.RDP.Port <= 0 || *a.RDP.Port > 65535) {
			t.Fatalf("rdp port %d", *a.RDP.Port)
		}
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if !bytes.Equal(ja, jb) {
			t.Fatalf("parse is not deterministic")
		}
	})
}

// TestParseWindowsRDPService covers what makes RDP really answer: the
// registry, the TermService service, the RDP-Tcp listener, and the
// firewall rule group beside them; and the domain role.
func TestParseWindowsRDPService(t *testing.T) {
	rdp := func(extra string) string {
		return `{"deny":0,"policy_deny":null,"port":3389,"nla":1` + extra + `}`
	}
	tests := []struct {
		name string
		in   []byte
		// enabled/service/winstation/firewall
		want string
	}{
		{"all on", winProbeDoc(t, nil), "true/Manual/true/true"},
		{"service disabled", winProbeDoc(t, map[string]string{"rdp": rdp(`,"win_station":1,"service_start_mode":"Disabled","fw_rules":3,"fw_enabled":3`)}), "false/Disabled/true/true"},
		{"service absent", winProbeDoc(t, map[string]string{"rdp": rdp(`,"win_station":1,"service_start_mode":"absent"`)}), "false/absent/true/nil"},
		{"listener off", winProbeDoc(t, map[string]string{"rdp": rdp(`,"win_station":0,"service_start_mode":"Auto","fw_rules":3,"fw_enabled":3`)}), "false/Auto/false/true"},
		{"listener off as a string", winProbeDoc(t, map[string]string{"rdp": rdp(`,"win_station":"0","service_start_mode":"Auto"`)}), "false/Auto/false/nil"},
		{"firewall group disabled", winProbeDoc(t, map[string]string{"rdp": rdp(`,"win_station":1,"service_start_mode":"Manual","fw_rules":3,"fw_enabled":0`)}), "true/Manual/true/false"},
		{"firewall group partly enabled", winProbeDoc(t, map[string]string{"rdp": rdp(`,"win_station":1,"service_start_mode":"Manual","fw_rules":3,"fw_enabled":1`)}), "true/Manual/true/true"},
		{"firewall group not found", winProbeDoc(t, map[string]string{"rdp": rdp(`,"win_station":1,"service_start_mode":"Manual","fw_rules":0,"fw_enabled":0`)}), "true/Manual/true/nil"},
		{"firewall unreadable", winProbeDoc(t, map[string]string{"errors": `["rdp.firewall: The term 'Get-NetFirewallRule' is not recognized"]`}), "true/Manual/true/nil"},
		{"service unreadable", winProbeDoc(t, map[string]string{"rdp": rdp(`,"win_station":1,"service_start_mode":null`), "errors": `["rdp.service: Access denied"]`}), "nil/nil/true/nil"},
		{"service unknown but listener off", winProbeDoc(t, map[string]string{"rdp": rdp(`,"win_station":0`)}), "false/nil/false/nil"},
		{"listener value absent", winProbeDoc(t, map[string]string{"rdp": rdp(`,"win_station":null,"service_start_mode":"Manual"`)}), "nil/Manual/nil/nil"},
		{"listener key unreadable", winProbeDoc(t, map[string]string{"errors": `["rdp.winstation: Requested registry access is not allowed."]`}), "nil/Manual/nil/true"},
		{"registry denies, service on", winProbeDoc(t, map[string]string{"rdp": `{"deny":1,"policy_deny":null,"port":3389,"nla":1,"win_station":1,"service_start_mode":"Auto"}`}), "false/Auto/true/nil"},
		{"output of an older probe", winProbeDoc(t, map[string]string{"rdp": rdp(""), "domain_role": ""}), "nil/nil/nil/nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f contract.Facts
			if err := ParseWindows(tt.in, &f); err != nil {
				t.Fatal(err)
			}
			r := f.RDP
			got := winFmtBool(r.Enabled) + "/" + orNil(r.ServiceStartMode) + "/" + winFmtBool(r.WinStationEnabled) + "/" + winFmtBool(r.FirewallEnabled)
			if got != tt.want {
				t.Errorf("enabled/service/winstation/firewall = %s, want %s", got, tt.want)
			}
		})
	}
}

func orNil(s *string) string {
	if s == nil {
		return "nil"
	}
	return *s
}

// TestParseWindowsAccountsAndRole: PasswordExpired is any non-zero value,
// and a domain controller reports no local accounts.
func TestParseWindowsAccountsAndRole(t *testing.T) {
	tests := []struct {
		name     string
		in       []byte
		accounts string
		role     string
		wantErr  string
	}{
		{name: "password expired 2", in: winProbeDoc(t, map[string]string{"accounts": `[{"name":"Administrator","user_flags":66049,"password_expired":2}]`}),
			accounts: "Administrator:true:true", role: "2"},
		{name: "password expired -1", in: winProbeDoc(t, map[string]string{"accounts": `[{"name":"Administrator","user_flags":66049,"password_expired":"-1"}]`}),
			accounts: "Administrator:true:true", role: "2"},
		{name: "password expired 0", in: winProbeDoc(t, nil), accounts: "Administrator:true:false", role: "2"},
		{name: "member server", in: winProbeDoc(t, map[string]string{"domain_role": "3"}), accounts: "Administrator:true:false", role: "3"},
		{name: "backup domain controller", in: winProbeDoc(t, map[string]string{"domain_role": "4", "accounts": "null"}), accounts: "nil", role: "4"},
		{name: "primary domain controller listing domain users anyway", in: winProbeDoc(t, map[string]string{"domain_role": `"5"`}), accounts: "nil", role: "5"},
		{name: "role unreadable", in: winProbeDoc(t, map[string]string{"domain_role": "null", "errors": `["os.domain_role: Invalid class"]`}), accounts: "Administrator:true:false", role: "nil"},
		{name: "role out of range", in: winProbeDoc(t, map[string]string{"domain_role": "9"}), wantErr: "domain_role 9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f contract.Facts
			err := ParseWindows(tt.in, &f)
			if tt.wantErr != "" {
				if err == nil || !errors.Is(err, ErrWindowsOutput) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			role := "nil"
			if f.OS.DomainRole != nil {
				role = strconv.Itoa(*f.OS.DomainRole)
			}
			if got := winFmtAccounts(f.Accounts); got != tt.accounts || role != tt.role {
				t.Errorf("accounts %s role %s, want %s role %s", got, role, tt.accounts, tt.role)
			}
		})
	}
}

// TestParseWindowsFraming: the document is read between its marker lines,
// whatever a login shell prints around them.
func TestParseWindowsFraming(t *testing.T) {
	doc := string(winProbeDoc(t, nil))
	framed := WindowsBegin + "\r\n" + doc + "\r\n" + WindowsEnd + "\r\n"
	tests := []struct {
		name, in, wantErr string
	}{
		{name: "framed", in: framed},
		{name: "chcp before", in: "Active code page: 65001\r\n" + framed},
		{name: "bom and chcp before", in: "\xef\xbb\xbfActive code page: 65001\r\n" + framed},
		{name: "bom on the marker line", in: "\xef\xbb\xbf" + framed},
		{name: "warnings before and after", in: "WARNING: The names of some imported commands include unapproved verbs.\r\n" + framed + "WARNING: something else\r\n"},
		{name: "braces in the noise", in: "{\"not\":\"the probe\"}\r\n" + framed + "{}\r\n"},
		{name: "lf only", in: strings.ReplaceAll(framed, "\r\n", "\n")},
		{name: "unframed document alone", in: doc + "\r\n"},
		{name: "unframed with noise", in: "Active code page: 65001\r\n" + doc, wantErr: "does not start with a JSON object"},
		{name: "no end marker", in: WindowsBegin + "\r\n" + doc + "\r\n", wantErr: "no line \"" + WindowsEnd + "\" after the begin marker"},
		{name: "no begin marker", in: doc + "\r\n" + WindowsEnd + "\r\n", wantErr: "no line \"" + WindowsBegin + "\" before"},
		{name: "noise inside the frame", in: WindowsBegin + "\r\nWARNING: x\r\n" + doc + "\r\n" + WindowsEnd, wantErr: "does not start with a JSON object"},
		{name: "empty frame", in: WindowsBegin + "\r\n" + WindowsEnd + "\r\n", wantErr: "empty output"},
		{name: "marker not on its own line", in: "echo " + WindowsBegin + "\r\n" + doc + "\r\n" + WindowsEnd, wantErr: "no line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f contract.Facts
			err := ParseWindows([]byte(tt.in), &f)
			if tt.wantErr != "" {
				if err == nil || !errors.Is(err, ErrWindowsOutput) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if f.OS != nil {
					t.Errorf("facts filled on error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.RDP == nil || f.RDP.Enabled == nil || !*f.RDP.Enabled {
				t.Errorf("rdp = %+v", f.RDP)
			}
		})
	}
}

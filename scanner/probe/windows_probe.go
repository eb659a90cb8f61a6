package probe

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/factorgate/factorgate/contract"
)

// WindowsSchema tags the JSON document the Windows probe prints.
const WindowsSchema = "factorgate/windows-probe/v1"

// Marker lines frame the probe's JSON document, so that what a login
// shell or profile prints before or after it (chcp's "Active code page:
// 65001", a "WARNING:" line) is never taken for it.
const (
	WindowsBegin = "==== factorgate windows probe begin ===="
	WindowsEnd   = "==== factorgate windows probe end ===="
)

// windowsProbeScript is the read-only probe, for Windows PowerShell 4.0
// (Server 2012 R2) to 5.1 (Server 2016 to 2022). It prints one JSON
// document between the marker lines [WindowsBegin] and [WindowsEnd],
// written last and at once so that nothing the steps print can fall
// between them. Each step runs in its own try/catch: a failed step leaves
// its field null and names itself in "errors" as "step: message", so one
// failure never costs the whole probe. Raw values are reported;
// ParseWindows derives the facts from them.
//
// Lines are trimmed and comment lines dropped before encoding (see
// compactPS): cmd.exe, which WinRM and OpenSSH for Windows start the command
// through, refuses command lines above 8191 characters. Short forms (-EA 0
// for -ErrorAction SilentlyContinue, ? and % for Where-Object and
// ForEach-Object) keep the script within it.
const windowsProbeScript = `
$ErrorActionPreference='Stop'
$ProgressPreference='SilentlyContinue'
$r=[ordered]@{schema='` + WindowsSchema + `';os=$null;domain_role=$null;rdp=$null;accounts=$null;hostguard=$null;security=$null;errors=@()}
function E($s,$e){$r.errors+=($s+': '+$e.Exception.Message)}
# WMI classes: CIM first, the WMI cmdlet where CIM is unavailable.
function W($c,$f){$a=@{};if($f){$a.Filter=$f};try{Get-CimInstance $c @a}catch{Get-WmiObject $c @a}}
try{$o=W Win32_OperatingSystem
 $r.os=[ordered]@{caption=[string]$o.Caption;version=[string]$o.Version;build=[string]$o.BuildNumber}
}catch{E 'os' $_}
# DomainRole 4 and 5 are domain controllers: WinNT:// lists the domain.
try{$x=(W Win32_ComputerSystem).DomainRole;if($null -ne $x){$r.domain_role=[int]$x}}catch{E 'os.domain_role' $_}
# Remote Desktop: the Group Policy value overrides the local one; the
# TermService service and the RDP-Tcp listener must be enabled too.
$t='HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server'
$d=[ordered]@{deny=$null;policy_deny=$null;port=$null;nla=$null;win_station=$null;service_start_mode=$null;fw_rules=$null;fw_enabled=$null}
$r.rdp=$d
try{$d.deny=(Get-ItemProperty -LiteralPath $t).fDenyTSConnections}catch{E 'rdp.deny' $_}
try{$p='HKLM:\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services'
 if(Test-Path $p){$d.policy_deny=(Get-ItemProperty -LiteralPath $p).fDenyTSConnections}}catch{E 'rdp.policy' $_}
try{$w=Get-ItemProperty -LiteralPath ($t+'\WinStations\RDP-Tcp');$d.port=$w.PortNumber;$d.nla=$w.UserAuthentication;$d.win_station=$w.fEnableWinStation}catch{E 'rdp.winstation' $_}
# Win32_Service has the start mode on every release (Get-Service has it
# from PowerShell 5.0 only).
try{$s=W Win32_Service "Name='TermService'";if($s){$d.service_start_mode=[string]$s.StartMode}else{$d.service_start_mode='absent'}}catch{E 'rdp.service' $_}
# The Remote Desktop firewall rule group, by its locale-independent name.
try{$g=@(Get-NetFirewallRule -Group '@FirewallAPI.dll,-28752' -EA 0)
 if(!$g){$g=@(Get-NetFirewallRule -DisplayGroup 'Remote Desktop')}
 $d.fw_rules=$g.Count;$d.fw_enabled=@($g|?{[string]$_.Enabled -eq 'True'}).Count}catch{E 'rdp.firewall' $_}
# Local accounts from the WinNT provider: UserFlags 0x2 is disabled,
# PasswordExpired non-zero is "must change password at next logon".
if(!($r.domain_role -ge 4)){try{$a=@()
 foreach($u in ([ADSI]('WinNT://'+$env:COMPUTERNAME+',computer')).Children){
  if($u.SchemaClassName -eq 'user'){$a+=[ordered]@{name=[string]$u.Name;user_flags=$u.UserFlags.Value;password_expired=$u.PasswordExpired.Value}}}
 $r.accounts=$a}catch{E 'accounts' $_}}
# HSS agent: service, install directory, processes.
$h=[ordered]@{service=$null;dir=$null;processes=$null}
$r.hostguard=$h
try{$s=Get-Service -Name HostGuard -EA 0;if($s){$h.service=[string]$s.Status}else{$h.service='absent'}}catch{E 'hostguard.service' $_}
try{$h.dir=Test-Path 'C:\Program Files\HostGuard'}catch{E 'hostguard.dir' $_}
try{$h.processes=@(Get-Process -Name HostGuard,HostWatch -EA 0|%{$_.ProcessName})}catch{E 'hostguard.processes' $_}
# Security products that conflict with 2FA: 360 Guard, G01.
$c=[ordered]@{services=$null;dirs=$null;antivirus=$null}
$r.security=$c
try{$c.services=@(Get-Service -EA 0|?{$_.Name -match '^(360|ZhuDongFangYu|QHActiveDefense|G01)'}|%{$_.Name})}catch{E 'security.services' $_}
try{$c.dirs=@('C:\Program Files\360','C:\Program Files (x86)\360','C:\Program Files\G01','C:\Program Files (x86)\G01'|?{Test-Path $_})}catch{E 'security.dirs' $_}
# SecurityCenter2 exists on client editions only: absent on Server is no error.
try{$c.antivirus=@(Get-CimInstance -Namespace root/SecurityCenter2 -ClassName AntiVirusProduct|%{[string]$_.displayName})}catch{}
'` + WindowsBegin + `'
$r|ConvertTo-Json -Depth 4 -Compress
'` + WindowsEnd + `'
`

// WindowsCommand is the fixed, read-only PowerShell probe, as one
// command line (an encoded command) for WinRM and for OpenSSH for Windows.
var WindowsCommand = EncodePowerShell(compactPS(windowsProbeScript))

// EncodePowerShell returns the command line that runs script in Windows
// PowerShell without a profile or prompts: the script travels as the base64
// of its UTF-16LE bytes, so no character of it is interpreted by a shell.
func EncodePowerShell(script string) string {
	u := utf16.Encode([]rune(script))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return "powershell.exe -NoProfile -NonInteractive -EncodedCommand " + base64.StdEncoding.EncodeToString(b)
}

// DecodePowerShell is the inverse of [EncodePowerShell]: it returns the
// script of an encoded PowerShell command line, or false if cmd is not one.
func DecodePowerShell(cmd string) (string, bool) {
	const prefix = "powershell.exe -NoProfile -NonInteractive -EncodedCommand "
	if !strings.HasPrefix(cmd, prefix) {
		return "", false
	}
	b, err := base64.StdEncoding.DecodeString(cmd[len(prefix):])
	if err != nil || len(b)%2 != 0 {
		return "", false
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u)), true
}

// compactPS trims each line of a script and drops blank and comment lines.
func compactPS(script string) string {
	var out []string
	for line := range strings.SplitSeq(script, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

// windowsProbe is the JSON document the probe prints.
type windowsProbe struct {
	Schema string `json:"schema"`
	OS     *struct {
		Caption psString `json:"caption"`
		Version psString `json:"version"`
		Build   psString `json:"build"`
	} `json:"os"`
	DomainRole psInt `json:"domain_role"`
	RDP        *struct {
		Deny             psInt    `json:"deny"`
		PolicyDeny       psInt    `json:"policy_deny"`
		Port             psInt    `json:"port"`
		NLA              psInt    `json:"nla"`
		WinStation       psInt    `json:"win_station"`
		ServiceStartMode psString `json:"service_start_mode"`
		FirewallRules    psInt    `json:"fw_rules"`
		FirewallEnabled  psInt    `json:"fw_enabled"`
	} `json:"rdp"`
	Accounts  psList[windowsAccount] `json:"accounts"`
	HostGuard *struct {
		Service   psString         `json:"service"`
		Dir       psBool           `json:"dir"`
		Processes psList[psString] `json:"processes"`
	} `json:"hostguard"`
	Security *struct {
		Services  psList[psString] `json:"services"`
		Dirs      psList[psString] `json:"dirs"`
		Antivirus psList[psString] `json:"antivirus"`
	} `json:"security"`
	Errors psList[psString] `json:"errors"`
}

type windowsAccount struct {
	Name            psString `json:"name"`
	UserFlags       psInt    `json:"user_flags"`
	PasswordExpired psInt    `json:"password_expired"`
}

// psString is a JSON string or null.
type psString struct {
	V   string
	Set bool
}

func (s *psString) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*s = psString{}
		return nil
	}
	if len(b) == 0 || b[0] != '"' {
		return fmt.Errorf("want a string, got %s", clip(b))
	}
	s.Set = true
	return json.Unmarshal(b, &s.V)
}

// psInt is a JSON integer, an integer in a string (Windows PowerShell 5.1
// writes some registry and ADSI values that way), or null.
type psInt struct {
	V   int64
	Set bool
}

func (n *psInt) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = psInt{}
		return nil
	}
	text := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &text); err != nil {
			return err
		}
		text = strings.TrimSpace(text)
	}
	v, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return fmt.Errorf("want an integer, got %s", clip(b))
	}
	*n = psInt{V: v, Set: true}
	return nil
}

// psBool is a JSON boolean, "True"/"False" as PowerShell prints them, or null.
type psBool struct {
	V   bool
	Set bool
}

func (p *psBool) UnmarshalJSON(b []byte) error {
	switch strings.ToLower(strings.Trim(string(b), `"`)) {
	case "null":
		if string(b) == "null" {
			*p = psBool{}
			return nil
		}
	case "true":
		*p = psBool{V: true, Set: true}
		return nil
	case "false":
		*p = psBool{V: false, Set: true}
		return nil
	}
	return fmt.Errorf("want a boolean, got %s", clip(b))
}

// psList is a JSON array, or what Windows PowerShell 5.1 makes of one: a
// single element on its own, or {"value": [...], "Count": n}. Null is unset.
type psList[T any] struct {
	V   []T
	Set bool
}

func (l *psList[T]) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*l = psList[T]{}
		return nil
	}
	if len(b) > 0 && b[0] == '[' {
		var v []T
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*l = psList[T]{V: v, Set: true}
		if l.V == nil {
			l.V = []T{}
		}
		return nil
	}
	if len(b) > 0 && b[0] == '{' {
		var wrapped struct {
			Value *json.RawMessage `json:"value"`
			Count *int             `json:"Count"`
		}
		if err := json.Unmarshal(b, &wrapped); err == nil && wrapped.Value != nil && wrapped.Count != nil {
			if err := l.UnmarshalJSON(*wrapped.Value); err != nil {
				return err
			}
			if len(l.V) != *wrapped.Count {
				return fmt.Errorf("array wrapper says Count %d but holds %d", *wrapped.Count, len(l.V))
			}
			return nil
		}
	}
	var one T
	if err := json.Unmarshal(b, &one); err != nil {
		return err
	}
	*l = psList[T]{V: []T{one}, Set: true}
	return nil
}

func clip(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}

// ErrWindowsOutput is returned (wrapped) by [ParseWindows] when the
// output is not the probe's JSON document.
var ErrWindowsOutput = errors.New("windows probe: unexpected output")

// ParseWindows fills the Windows sections of f from the probe's output:
// f.OS (family "windows", the domain role), f.RDP, f.Accounts, the agent
// fields of f.HSS and f.SecurityProducts. A section the probe could not
// read stays nil; a domain controller's accounts stay nil (it has no local
// accounts). The document is read between the marker lines [WindowsBegin]
// and [WindowsEnd], whatever a login shell printed around them; output
// without markers must be the JSON document alone. It accepts a UTF-8 byte
// order mark, CRLF line ends and the ways Windows PowerShell 4.0 and 5.1
// serialise arrays and numbers; anything else is an error wrapping
// [ErrWindowsOutput], and f is left untouched.
func ParseWindows(out []byte, f *contract.Facts) error {
	out, err := windowsFrame(out)
	if err != nil {
		return err
	}
	if len(out) == 0 {
		return fmt.Errorf("%w: empty output", ErrWindowsOutput)
	}
	if out[0] != '{' {
		return fmt.Errorf("%w: does not start with a JSON object: %q", ErrWindowsOutput, clip(out))
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	var p windowsProbe
	if err := dec.Decode(&p); err != nil {
		return fmt.Errorf("%w: %v", ErrWindowsOutput, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%w: trailing data after the JSON document at offset %d", ErrWindowsOutput, dec.InputOffset())
	}
	if p.Schema != WindowsSchema {
		return fmt.Errorf("%w: schema %q, want %q", ErrWindowsOutput, p.Schema, WindowsSchema)
	}
	failed := map[string]bool{}
	for _, e := range p.Errors.V {
		step, _, _ := strings.Cut(e.V, ":")
		failed[step] = true
	}

	accounts, err := windowsAccounts(p.Accounts)
	if err != nil {
		return err
	}
	os := windowsOS(&p)
	if p.DomainRole.Set && !failed["os.domain_role"] {
		if p.DomainRole.V < 0 || p.DomainRole.V > 5 {
			return fmt.Errorf("%w: domain_role %d is not a Win32_ComputerSystem.DomainRole (0-5)", ErrWindowsOutput, p.DomainRole.V)
		}
		os.DomainRole = contract.Ptr(int(p.DomainRole.V))
		if p.DomainRole.V >= 4 {
			// A domain controller has no local accounts: what WinNT://
			// lists there are the domain's users.
			accounts = nil
		}
	}

	f.OS = os
	f.RDP = windowsRDP(&p, failed)
	f.Accounts = accounts
	installed, running := windowsAgent(&p, failed)
	if f.HSS == nil {
		f.HSS = &contract.HSS{}
	}
	f.HSS.AgentInstalled, f.HSS.AgentRunning = installed, running
	f.SecurityProducts = windowsSecurityProducts(&p, failed)
	return nil
}

// windowsFrame returns the document between the marker lines, or, when
// the output holds no marker at all, the whole output trimmed.
func windowsFrame(out []byte) ([]byte, error) {
	const bom = "\xef\xbb\xbf"
	if !bytes.Contains(out, []byte(WindowsBegin)) && !bytes.Contains(out, []byte(WindowsEnd)) {
		return bytes.TrimSpace(bytes.TrimPrefix(out, []byte(bom))), nil
	}
	lines := bytes.Split(out, []byte("\n"))
	marker := func(line []byte, m string) bool {
		return string(bytes.TrimSpace(bytes.TrimPrefix(bytes.TrimSpace(line), []byte(bom)))) == m
	}
	begin := -1
	for i, line := range lines {
		if marker(line, WindowsBegin) {
			begin = i
			break
		}
	}
	if begin < 0 {
		return nil, fmt.Errorf("%w: no line %q before the end marker", ErrWindowsOutput, WindowsBegin)
	}
	for j := begin + 1; j < len(lines); j++ {
		if marker(lines[j], WindowsEnd) {
			doc := bytes.Join(lines[begin+1:j], []byte("\n"))
			return bytes.TrimSpace(bytes.TrimPrefix(bytes.TrimSpace(doc), []byte(bom))), nil
		}
	}
	return nil, fmt.Errorf("%w: no line %q after the begin marker (output cut short?)", ErrWindowsOutput, WindowsEnd)
}

func windowsOS(p *windowsProbe) *contract.OS {
	os := &contract.OS{Family: contract.Ptr("windows"), ID: contract.Ptr("windows")}
	if p.OS == nil {
		return os
	}
	str := func(s psString) *string {
		if !s.Set || strings.TrimSpace(s.V) == "" {
			return nil
		}
		return contract.Ptr(strings.TrimSpace(s.V))
	}
	os.Name, os.Version, os.Build = str(p.OS.Caption), str(p.OS.Version), str(p.OS.Build)
	return os
}

// windowsRDP derives the Remote Desktop facts. RDP is enabled when the
// registry allows connections (Group Policy first), the TermService
// service is not disabled, and the RDP-Tcp listener is not switched off
// (fEnableWinStation 0); any of them known to forbid it makes it false,
// and it is true only when all three are known to allow it.
func windowsRDP(p *windowsProbe, failed map[string]bool) *contract.RDP {
	if p.RDP == nil {
		return nil
	}
	r := &contract.RDP{}
	var registry *bool
	switch {
	case failed["rdp.policy"]:
		// The policy may override the local value: unknown.
	case p.RDP.PolicyDeny.Set:
		registry = contract.Ptr(p.RDP.PolicyDeny.V == 0)
		r.PolicyOverride = contract.Ptr(true)
	case p.RDP.Deny.Set && !failed["rdp.deny"]:
		registry = contract.Ptr(p.RDP.Deny.V == 0)
		r.PolicyOverride = contract.Ptr(false)
	}
	winStationRead := !failed["rdp.winstation"]
	if winStationRead && p.RDP.Port.Set && p.RDP.Port.V > 0 && p.RDP.Port.V < 65536 {
		r.Port = contract.Ptr(int(p.RDP.Port.V))
	}
	if winStationRead && p.RDP.NLA.Set {
		r.NLA = contract.Ptr(p.RDP.NLA.V != 0)
	}
	if winStationRead && p.RDP.WinStation.Set {
		r.WinStationEnabled = contract.Ptr(p.RDP.WinStation.V != 0)
	}
	var service *bool
	if mode := strings.TrimSpace(p.RDP.ServiceStartMode.V); p.RDP.ServiceStartMode.Set && mode != "" && !failed["rdp.service"] {
		r.ServiceStartMode = contract.Ptr(mode)
		service = contract.Ptr(!strings.EqualFold(mode, "Disabled") && !strings.EqualFold(mode, "absent"))
	}
	if p.RDP.FirewallRules.Set && p.RDP.FirewallEnabled.Set && p.RDP.FirewallRules.V > 0 && !failed["rdp.firewall"] {
		r.FirewallEnabled = contract.Ptr(p.RDP.FirewallEnabled.V > 0)
	}
	r.Enabled = allOf(registry, service, r.WinStationEnabled)
	return r
}

// allOf is false when any condition is known false, true when all are
// known true, and unknown otherwise.
func allOf(conds ...*bool) *bool {
	all := true
	for _, c := range conds {
		switch {
		case c == nil:
			all = false
		case !*c:
			return contract.Ptr(false)
		}
	}
	if !all {
		return nil
	}
	return contract.Ptr(true)
}

func windowsAccounts(l psList[windowsAccount]) ([]contract.Account, error) {
	if !l.Set {
		return nil, nil
	}
	accounts := make([]contract.Account, 0, len(l.V))
	for i, a := range l.V {
		if !a.Name.Set || strings.TrimSpace(a.Name.V) == "" {
			return nil, fmt.Errorf("%w: accounts[%d] has no name", ErrWindowsOutput, i)
		}
		acc := contract.Account{Name: a.Name.V}
		if a.UserFlags.Set {
			acc.Enabled = contract.Ptr(a.UserFlags.V&0x2 == 0)
		}
		if a.PasswordExpired.Set {
			acc.MustChangePassword = contract.Ptr(a.PasswordExpired.V != 0)
		}
		accounts = append(accounts, acc)
	}
	return accounts, nil
}

// windowsAgent reads the HSS agent from the service, the install directory
// and the processes: any positive sign wins; a negative answer needs at
// least one source that was read.
func windowsAgent(p *windowsProbe, failed map[string]bool) (installed, running *bool) {
	hg := p.HostGuard
	if hg == nil {
		return nil, nil
	}
	svcKnown := hg.Service.Set && !failed["hostguard.service"]
	svcPresent := svcKnown && !strings.EqualFold(hg.Service.V, "absent")
	procKnown := hg.Processes.Set && !failed["hostguard.processes"]
	procRunning := false
	for _, name := range hg.Processes.V {
		if strings.EqualFold(name.V, "HostGuard") {
			procRunning = true
		}
	}
	dirKnown := hg.Dir.Set && !failed["hostguard.dir"]

	switch {
	case svcPresent || (dirKnown && hg.Dir.V) || (procKnown && len(hg.Processes.V) > 0):
		installed = contract.Ptr(true)
	case svcKnown && dirKnown:
		installed = contract.Ptr(false)
	}
	switch {
	case (svcPresent && strings.EqualFold(hg.Service.V, "Running")) || procRunning:
		running = contract.Ptr(true)
	case svcKnown || procKnown:
		running = contract.Ptr(false)
	}
	return installed, running
}

// Security products known to conflict with HSS 2FA on Windows, by the
// names their services, install directories and SecurityCenter2 entries use.
var conflictingProducts = []struct {
	name string
	re   *regexp.Regexp
}{
	{"360 Guard", regexp.MustCompile(`(?i)(^|\\)360|ZhuDongFangYu|QHActiveDefense|360\s*(safe|total security|guard)`)},
	{"G01", regexp.MustCompile(`(?i)(^|\\)G01`)},
}

func windowsSecurityProducts(p *windowsProbe, failed map[string]bool) []string {
	s := p.Security
	if s == nil {
		return nil
	}
	svcKnown := s.Services.Set && !failed["security.services"]
	dirKnown := s.Dirs.Set && !failed["security.dirs"]
	if !svcKnown && !dirKnown {
		return nil
	}
	found := []string{}
	var names []string
	for _, l := range []psList[psString]{s.Services, s.Dirs, s.Antivirus} {
		for _, n := range l.V {
			names = append(names, n.V)
		}
	}
	for _, n := range names {
		for _, prod := range conflictingProducts {
			if prod.re.MatchString(n) && !slices.Contains(found, prod.name) {
				found = append(found, prod.name)
			}
		}
	}
	slices.Sort(found)
	return found
}

// ParseWindowsSSHBanner records the SSH server banner of a Windows host
// reached over SSH (OpenSSH for Windows, e.g. "SSH-2.0-OpenSSH_for_Windows_8.1")
// in f.OpenSSH with Windows set. An empty banner leaves f.OpenSSH alone; a
// banner that names no version is kept with the version unknown.
func ParseWindowsSSHBanner(banner string, f *contract.Facts) {
	o := ParseOpenSSHBanner(banner)
	if o == nil {
		return
	}
	// The host is Windows whatever the banner says (OpenSSH for Windows
	// may answer "OpenSSH_for_Windows_8.1" or plain "OpenSSH_9.5"); a
	// banner of another server keeps the version unknown, as on Linux.
	o.Windows = true
	f.OpenSSH = o
}

// Package winprofiles holds the simulated Windows hosts shared by the WinRM
// emulator ([github.com/factorgate/factorgate/internal/winrmsim]) and the
// simulated SSH fleet: what [probe.WindowsCommand] prints on each,
// and the verdict the default policy bundle should reach about it.
//
// Use [All] for the whole set and [Get] for one profile by name. Outputs are
// written the way Windows PowerShell 5.1 `ConvertTo-Json -Compress` writes
// them, between the probe's marker lines, CRLF line ends included; some profiles carry its quirks on purpose
// (numbers as strings, a lone account serialised as an object, the
// {"value": [...], "Count": n} array wrapper).
package winprofiles

import (
	"encoding/json"
	"slices"
	"strconv"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/scanner/probe"
)

// Profile is one simulated Windows host.
type Profile struct {
	// Name identifies the profile, e.g. "server-2019".
	Name string
	// Description says what is special about the host.
	Description string
	// Stdout, Stderr and ExitCode are what the probe command gives.
	Stdout   []byte
	Stderr   []byte
	ExitCode int
	// Slow hosts answer the probe only after the simulator's delay.
	Slow bool
	// Expect is the verdict of the default policy bundle.
	Expect Expectation
}

// Expectation is the verdict expected for a profile when scanned without
// cloud facts, in verification-code mode (no SMN topic involved).
type Expectation struct {
	// Status is the Decision status: "eligible", "ineligible" or
	// "unreachable" (no answer). A host whose probe prints garbage is
	// reachable with every Windows fact unknown: ineligible.
	Status contract.Status
	// Violations and Warnings are the check IDs found, sorted, without
	// repeats.
	Violations []string
	Warnings   []string
	// Facts is true when the probe yields facts (ParseWindowsProbe succeeds).
	Facts bool
}

// Profile names.
const (
	Server2012R2       = "server-2012r2"
	Server2016         = "server-2016"
	Server2019         = "server-2019"
	Server2022         = "server-2022"
	RDPOff             = "rdp-off"
	RDPOffByPolicy     = "rdp-off-gpo"
	MustChange         = "must-change"
	MustChangeDisabled = "must-change-disabled"
	AgentAbsent        = "agent-absent"
	ConflictingProduct = "conflicting-product"
	Slow               = "slow"
	Garbage            = "garbage"
	// Remote Desktop as Windows really answers it.
	TermServiceDisabled = "termservice-disabled"
	WinStationOff       = "winstation-off"
	RDPFirewallOff      = "rdp-firewall-off"
	// PasswordExpired is any non-zero value, not only 1.
	MustChangeExpired2 = "must-change-expired-2"
	// A domain controller: no local accounts to list.
	DomainController = "domain-controller"
	// Text a login shell prints around the probe's framed JSON.
	BannerNoise = "banner-noise"
)

// All returns every profile, sorted by name.
func All() []Profile {
	ps := []Profile{
		{Name: Server2012R2, Description: "Server 2012 R2, RDP on, agent running; PowerShell writes numbers as strings and wraps the account array",
			Stdout: doc(os2012R2, rdp(`"0"`, "null", `"3389"`, `"1"`),
				`{"value":[{"name":"Administrator","user_flags":"66049","password_expired":"0"},{"name":"Guest","user_flags":"66083","password_expired":"0"}],"Count":2}`,
				agentRunning, noProducts),
			Expect: eligible},
		{Name: Server2016, Description: "Server 2016, RDP on, agent running, one local account (serialised as an object)",
			Stdout: doc(os2016, rdpOn, `{"name":"Administrator","user_flags":66049,"password_expired":0}`, agentRunning, noProducts),
			Expect: eligible},
		{Name: Server2019, Description: "Server 2019, RDP on, agent running, stock accounts",
			Stdout: doc(os2019, rdpOn, stockAccounts2019(0), agentRunning, noProducts),
			Expect: eligible},
		{Name: Server2022, Description: "Server 2022, RDP on port 3390, agent running, stock accounts",
			Stdout: doc(os2022, rdp("0", "null", "3390", "1"), stockAccounts2019(0), agentRunning, noProducts),
			Expect: eligible},
		{Name: RDPOff, Description: "Server 2019, Remote Desktop connections denied (fDenyTSConnections 1)",
			Stdout: doc(os2019, rdp("1", "null", "3389", "1"), stockAccounts2019(0), agentRunning, noProducts),
			Expect: ineligible("rdp", "protection")},
		{Name: RDPOffByPolicy, Description: "Server 2019, RDP allowed locally but denied by Group Policy",
			Stdout: doc(os2019, rdp("0", "1", "3389", "1"), stockAccounts2019(0), agentRunning, noProducts),
			Expect: ineligible("rdp", "protection")},
		{Name: MustChange, Description: "Server 2022, Administrator must change its password at next logon (fresh cloud image)",
			Stdout: doc(os2022, rdpOn, stockAccounts2019(1), agentRunning, noProducts),
			Expect: ineligible("must_change_password", "protection", "rdp")},
		{Name: MustChangeDisabled, Description: "Server 2022, only disabled accounts carry the must-change flag",
			Stdout: doc(os2022, rdpOn, `[{"name":"Administrator","user_flags":66049,"password_expired":0},{"name":"olduser","user_flags":515,"password_expired":1},{"name":"WDAGUtilityAccount","user_flags":66051,"password_expired":1}]`, agentRunning, noProducts),
			Expect: eligible},
		{Name: AgentAbsent, Description: "Server 2019 without the HSS agent",
			Stdout: doc(os2019, rdpOn, stockAccounts2019(0), `{"service":"absent","dir":false,"processes":[]}`, noProducts),
			Expect: ineligible("protection", "rdp")},
		{Name: ConflictingProduct, Description: "Server 2016 with 360 Guard installed (a warning, not a violation)",
			Stdout: doc(os2016, rdpOn, `[{"name":"Administrator","user_flags":66049,"password_expired":0}]`, agentRunning, `{"services":["360rp","ZhuDongFangYu"],"dirs":["C:\\Program Files (x86)\\360"],"antivirus":null}`),
			Expect: eligible},
		{Name: Slow, Description: "Server 2019 whose probe answers only after the simulator's delay",
			Stdout: doc(os2019, rdpOn, stockAccounts2019(0), agentRunning, noProducts), Slow: true,
			Expect: Expectation{Status: contract.StatusUnreachable, Violations: []string{"reachable"}}},
		{Name: TermServiceDisabled, Description: "Server 2019, RDP allowed in the registry but the TermService service disabled",
			Stdout: doc(os2019, rdpWith("0", "null", "3389", "1", "1", "Disabled", 3, 3), stockAccounts2019(0), agentRunning, noProducts),
			Expect: ineligible("rdp", "protection")},
		{Name: WinStationOff, Description: "Server 2022, RDP allowed in the registry but the RDP-Tcp listener switched off (fEnableWinStation 0)",
			Stdout: doc(os2022, rdpWith("0", "null", "3389", "1", "0", "Manual", 3, 3), stockAccounts2019(0), agentRunning, noProducts),
			Expect: ineligible("rdp", "protection")},
		// The verdict below is the bundle's before it reads
		// rdp.firewall_enabled; the fact itself is false.
		{Name: RDPFirewallOff, Description: "Server 2016, RDP on but the Remote Desktop firewall rule group disabled",
			Stdout: doc(os2016, rdpWith("0", "null", "3389", "1", "1", "Manual", 3, 0), stockAccounts2019(0), agentRunning, noProducts),
			Expect: eligible},
		{Name: MustChangeExpired2, Description: "Server 2019, Administrator's PasswordExpired is 2 (Windows promises only non-zero)",
			Stdout: doc(os2019, rdpOn, `[{"name":"Administrator","user_flags":66049,"password_expired":2},{"name":"Guest","user_flags":66115,"password_expired":0}]`, agentRunning, noProducts),
			Expect: ineligible("must_change_password", "protection", "rdp")},
		// Accounts are unknown on a domain controller; the verdict below is
		// the bundle's reading of unknown accounts.
		{Name: DomainController, Description: "Server 2022 domain controller (DomainRole 5): no local accounts, WinNT:// is not enumerated",
			Stdout: docRole(os2022, 5, rdpOn, "null", agentRunning, noProducts),
			Expect: ineligible("must_change_password", "protection", "rdp")},
		{Name: BannerNoise, Description: "Server 2019 whose login shell prints chcp's code page before the probe and a warning after it",
			Stdout: append(append([]byte("Active code page: 65001\r\n"), doc(os2019, rdpOn, stockAccounts2019(0), agentRunning, noProducts)...),
				"WARNING: this server is managed centrally; local changes will be overwritten.\r\n"...),
			Expect: eligible},
		{Name: Garbage, Description: "a host whose PowerShell prints something that is not the probe's JSON",
			Stdout: []byte("Windows PowerShell\r\nCopyright (C) Microsoft Corporation. All rights reserved.\r\n\r\nPS C:\\Users\\Administrator> \r\n"),
			Expect: Expectation{Status: contract.StatusIneligible, Violations: []string{"os_supported", "protection"}}},
	}
	slices.SortFunc(ps, func(a, b Profile) int { return compare(a.Name, b.Name) })
	return ps
}

// Get returns the profile called name.
func Get(name string) (Profile, bool) {
	for _, p := range All() {
		if p.Name == name {
			return p, true
		}
	}
	return Profile{}, false
}

// Names returns the names of every profile, sorted.
func Names() []string {
	var names []string
	for _, p := range All() {
		names = append(names, p.Name)
	}
	return names
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

var (
	// eligible hosts carry two warnings: protection is not verified
	// without cloud facts, and RDP from other Windows servers needs a
	// stored credential once 2FA is on.
	eligible = Expectation{Status: contract.StatusEligible, Warnings: []string{"protection", "rdp"}, Facts: true}

	os2012R2 = osJSON("Microsoft Windows Server 2012 R2 Standard", "6.3.9600", "9600")
	os2016   = osJSON("Microsoft Windows Server 2016 Datacenter", "10.0.14393", "14393")
	os2019   = osJSON("Microsoft Windows Server 2019 Datacenter", "10.0.17763", "17763")
	os2022   = osJSON("Microsoft Windows Server 2022 Datacenter", "10.0.20348", "20348")

	rdpOn        = rdp("0", "null", "3389", "1")
	agentRunning = `{"service":"Running","dir":true,"processes":["HostGuard","HostWatch"]}`
	noProducts   = `{"services":[],"dirs":[],"antivirus":null}`
)

func ineligible(violation string, warnings ...string) Expectation {
	return Expectation{Status: contract.StatusIneligible, Violations: []string{violation}, Warnings: warnings, Facts: true}
}

func osJSON(caption, version, build string) string {
	b, _ := json.Marshal(map[string]string{"caption": caption, "version": version, "build": build})
	return string(b)
}

// rdp is the rdp section of a host whose TermService starts on demand
// (Manual, the default), whose RDP-Tcp listener is on, and whose Remote
// Desktop firewall rules (three) are enabled.
func rdp(deny, policy, port, nla string) string {
	return rdpWith(deny, policy, port, nla, "1", "Manual", 3, 3)
}

func rdpWith(deny, policy, port, nla, winStation, startMode string, fwRules, fwEnabled int) string {
	return `{"deny":` + deny + `,"policy_deny":` + policy + `,"port":` + port + `,"nla":` + nla +
		`,"win_station":` + winStation + `,"service_start_mode":"` + startMode + `"` +
		`,"fw_rules":` + strconv.Itoa(fwRules) + `,"fw_enabled":` + strconv.Itoa(fwEnabled) + `}`
}

// stockAccounts2019 lists the local accounts of Server 2019/2022;
// adminExpired is Administrator's PasswordExpired.
func stockAccounts2019(adminExpired int) string {
	exp := "0"
	if adminExpired != 0 {
		exp = "1"
	}
	return `[{"name":"Administrator","user_flags":66049,"password_expired":` + exp + `},` +
		`{"name":"DefaultAccount","user_flags":66115,"password_expired":0},` +
		`{"name":"Guest","user_flags":66115,"password_expired":0},` +
		`{"name":"WDAGUtilityAccount","user_flags":66051,"password_expired":1}]`
}

// doc assembles the probe's output for a standalone server (DomainRole
// 2): its document in the key order the probe prints, between the marker
// lines.
func doc(os, rdp, accounts, hostguard, security string) []byte {
	return docRole(os, 2, rdp, accounts, hostguard, security)
}

func docRole(os string, role int, rdp, accounts, hostguard, security string) []byte {
	s := probe.WindowsBegin + "\r\n" +
		`{"schema":"` + probe.WindowsSchema + `","os":` + os + `,"domain_role":` + strconv.Itoa(role) + `,"rdp":` + rdp +
		`,"accounts":` + accounts + `,"hostguard":` + hostguard + `,"security":` + security + `,"errors":[]}` + "\r\n" +
		probe.WindowsEnd + "\r\n"
	return []byte(s)
}

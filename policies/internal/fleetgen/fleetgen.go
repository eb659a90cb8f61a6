// Package fleetgen makes large, varied fleets of Facts for benchmarks and
// memory measurements of the policies and of `factorgate check`.
//
// A fleet looks like a real one: thousands of hosts built from a few
// hundred configurations, some far more common than others. Host i of a
// fleet of n draws configuration k (0 <= k < [Configs]) with a skewed
// distribution (k = Configs*u² for u uniform in [0, 1)), so low k are
// common and high k rare. Configuration k fixes everything the policies
// judge: for Linux (four in five) the distribution and its OpenSSH (CentOS
// 7.9 with 7.4p1, CentOS 7.6, RHEL 8.4 with 8.0p1, Ubuntu 18.04 with 7.6p1,
// Ubuntu 20.04 with 8.2p1, Debian 10 with 7.9p1, SLES 12 with 7.2p2), the
// sshd settings (six variants: ready, no password logins, no PAM, no
// keyboard-interactive, root by key only, root never), SELinux (disabled,
// permissive, off now but enforcing at boot) and the scanner's login;
// for Windows the version, RDP (on, off, off by Group Policy), the
// must-change flag and security products; for both the HSS state (online
// and opened, offline, protection closed, no cloud facts) and whether 2FA
// is on. One host in fifty is unreachable, with an error naming its
// address, so no two unreachable hosts are alike.
//
// Each host has its own name (not following i, so output must really be
// sorted), address, labels (env, rack, team), HSS host ID, scan time and
// duration.
package fleetgen

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/factorgate/factorgate/contract"
)

// Configs is how many configurations a fleet draws from.
const Configs = 400

var collected = time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)

// mix is a 64-bit hash of i (splitmix64's finaliser).
func mix(i uint64) uint64 {
	i += 0x9e3779b97f4a7c15
	i = (i ^ i>>30) * 0xbf58476d1ce4e5b9
	i = (i ^ i>>27) * 0x94d049bb133111eb
	return i ^ i>>31
}

// Config returns the configuration host i draws, in [0, Configs).
func Config(i int) int {
	u := float64(mix(uint64(i))>>11) / (1 << 53)
	return int(Configs * u * u)
}

// Unreachable reports whether host i could not be scanned.
func Unreachable(i int) bool { return mix(uint64(i)^0x5bd1e995)%50 == 0 }

type distro struct {
	id, name, version, kernel string
	banner, version2          string // SSH banner, OpenSSH version
	major, minor              int
	selinux                   bool // installed
}

var distros = []distro{
	{"centos", "CentOS Linux", "7.9.2009", "3.10.0-1160.el7.x86_64", "SSH-2.0-OpenSSH_7.4", "7.4p1", 7, 4, true},
	{"centos", "CentOS Linux", "7.6.1810", "3.10.0-957.el7.x86_64", "SSH-2.0-OpenSSH_7.4", "7.4p1", 7, 4, true},
	{"rhel", "Red Hat Enterprise Linux", "8.4 (Ootpa)", "4.18.0-305.el8.x86_64", "SSH-2.0-OpenSSH_8.0", "8.0p1", 8, 0, true},
	{"ubuntu", "Ubuntu", "18.04.6 LTS (Bionic Beaver)", "4.15.0-213-generic", "SSH-2.0-OpenSSH_7.6p1 Ubuntu-4ubuntu0.7", "7.6p1", 7, 6, false},
	{"ubuntu", "Ubuntu", "20.04.6 LTS (Focal Fossa)", "5.4.0-190-generic", "SSH-2.0-OpenSSH_8.2p1 Ubuntu-4ubuntu0.11", "8.2p1", 8, 2, false},
	{"debian", "Debian GNU/Linux", "10 (buster)", "4.19.0-27-amd64", "SSH-2.0-OpenSSH_7.9p1 Debian-10+deb10u4", "7.9p1", 7, 9, false},
	{"sles", "SUSE Linux Enterprise Server", "12 SP5", "4.12.14-122.37-default", "SSH-2.0-OpenSSH_7.2", "7.2p2", 7, 2, false},
}

var windowsVersions = []struct{ name, version, build string }{
	{"Windows Server 2012 R2 Datacenter", "6.3.9600", "9600"},
	{"Windows Server 2016 Datacenter", "10.0.14393", "14393"},
	{"Windows Server 2019 Datacenter", "10.0.17763", "17763"},
	{"Windows Server 2022 Datacenter", "10.0.20348", "20348"},
}

// Host returns the Facts of host i of a fleet of n hosts.
func Host(i, n int) *contract.Facts {
	p := contract.Ptr[string]
	b := contract.Ptr[bool]
	// A permutation of 0..n-1 when n is not a multiple of 7919 (prime).
	id := (i * 7919) % n
	k := Config(i)
	f := &contract.Facts{
		Schema: contract.FactsSchema,
		Host: contract.Host{
			Name: fmt.Sprintf("host-%07d", id), Address: fmt.Sprintf("10.%d.%d.%d", id>>16&255, id>>8&255, id&255),
			Port: 22, Transport: "ssh", Auth: p("publickey"),
			Labels: map[string]string{
				"env":  []string{"prod", "staging", "dev"}[id%3],
				"rack": fmt.Sprintf("r%02d", id%40),
				"team": []string{"payments", "search", "infra", "data", "web"}[id%5],
			},
		},
		CollectedAt: collected.Add(time.Duration(id%3600) * time.Second),
		Reachable:   true,
		HSS: &contract.HSS{AgentInstalled: b(true), AgentRunning: b(true), HostID: p(fmt.Sprintf("%08x-0000-4000-8000-%012x", id, id)),
			AgentStatus: p("online"), ProtectStatus: p("opened"), HostStatus: p("ACTIVE"),
			TwoFactor: &contract.TwoFactor{Enabled: b(false)}},
		DurationMS: int64(300 + id%900),
	}
	if k%5 == 4 {
		windows(f, k/5)
	} else {
		linux(f, k/5*4+k%5)
	}
	switch k / 7 % 4 { // HSS
	case 1:
		f.HSS.AgentStatus = p("offline")
	case 2:
		f.HSS.ProtectStatus = p("closed")
	case 3: // no cloud credentials: what the host itself says
		f.HSS = &contract.HSS{AgentInstalled: b(true), AgentRunning: b(true)}
	}
	if k%11 == 3 && f.HSS.AgentStatus != nil {
		f.HSS.TwoFactor = &contract.TwoFactor{Enabled: b(true), AuthType: p("code")}
	}
	if Unreachable(i) {
		f.Reachable = false
		f.Error = p(fmt.Sprintf("dial tcp %s:%d: i/o timeout", f.Host.Address, f.Host.Port))
		f.OS, f.OpenSSH, f.SSHD, f.SELinux, f.HSS, f.RDP, f.Accounts, f.SecurityProducts = nil, nil, nil, nil, nil, nil, nil, nil
	}
	return f
}

// linux fills the Linux facts of configuration k.
func linux(f *contract.Facts, k int) {
	p := contract.Ptr[string]
	b := contract.Ptr[bool]
	num := contract.Ptr[int]
	d := distros[k%len(distros)]
	f.OS = &contract.OS{Family: p("linux"), ID: p(d.id), Name: p(d.name), Version: p(d.version), Kernel: p(d.kernel)}
	f.OpenSSH = &contract.OpenSSH{Banner: p(d.banner), Version: p(d.version2), Major: num(d.major), Minor: num(d.minor), Source: "banner"}
	f.SSHD = &contract.SSHD{PasswordAuthentication: b(true), KbdInteractiveAuthentication: b(true), UsePAM: b(true),
		PermitEmptyPasswords: b(false), PermitRootLogin: p("yes"), Source: "sshd -T"}
	switch k / len(distros) % 6 {
	case 1:
		f.SSHD.PasswordAuthentication = b(false)
	case 2:
		f.SSHD.UsePAM = b(false)
	case 3:
		f.SSHD.KbdInteractiveAuthentication = b(false)
	case 4:
		f.SSHD.PermitRootLogin = p("prohibit-password")
	case 5:
		f.SSHD.PermitRootLogin = p("no")
	}
	if d.selinux {
		f.SELinux = &contract.SELinux{Installed: b(true), Mode: p("disabled"), ConfigMode: p("disabled"), Source: "getenforce"}
		switch k / 3 % 3 {
		case 1:
			f.SELinux.Mode, f.SELinux.ConfigMode = p("permissive"), p("permissive")
		case 2:
			f.SELinux.ConfigMode = p("enforcing")
		}
	} else {
		f.SELinux = &contract.SELinux{Installed: b(false), Mode: p("disabled"), Source: "getenforce"}
	}
	if k%13 == 5 {
		f.Host.Auth = p("password")
	}
}

// windows fills the Windows facts of configuration k.
func windows(f *contract.Facts, k int) {
	p := contract.Ptr[string]
	b := contract.Ptr[bool]
	num := contract.Ptr[int]
	v := windowsVersions[k%len(windowsVersions)]
	f.Host.Port, f.Host.Transport, f.Host.Auth = 5986, "winrm", p("ntlm")
	f.OS = &contract.OS{Family: p("windows"), ID: p("windows"), Name: p(v.name), Version: p(v.version), Build: p(v.build)}
	f.RDP = &contract.RDP{Enabled: b(true), Port: num(3389), NLA: b(true)}
	switch k / 4 % 5 {
	case 3:
		f.RDP.Enabled = b(false)
	case 4:
		f.RDP.Enabled, f.RDP.PolicyOverride = b(false), b(true)
	}
	f.Accounts = []contract.Account{
		{Name: "Administrator", Enabled: b(true), MustChangePassword: b(k%3 == 1)},
		{Name: "Guest", Enabled: b(false), MustChangePassword: b(true)},
	}
	f.SecurityProducts = []string{}
	if k%7 == 2 {
		f.SecurityProducts = []string{"360 Total Security"}
	}
}

// Write writes a fleet of n hosts as JSON lines.
func Write(w io.Writer, n int) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	enc := json.NewEncoder(bw)
	for i := range n {
		if err := enc.Encode(Host(i, n)); err != nil {
			return err
		}
	}
	return bw.Flush()
}

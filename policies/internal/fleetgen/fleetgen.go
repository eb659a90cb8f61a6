// Package fleetgen makes large, varied fleets of Facts for benchmarks and
// memory measurements of the policies and of `factorgate check`.
//
// Host i of a fleet of n is one of a fixed mix of shapes (eligible CentOS 7,
// Ubuntu 20.04 with OpenSSH 8.2, SELinux permissive, SELinux back at boot,
// Windows with a must-change account, Windows eligible, 2FA on, no cloud
// facts, unreachable), with a name that does not follow i, so the output
// must really be sorted.
package fleetgen

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/factorgate/factorgate/contract"
)

var collected = time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)

// Host returns the Facts of host i of a fleet of n hosts.
func Host(i, n int) *contract.Facts {
	p := contract.Ptr[string]
	b := contract.Ptr[bool]
	num := contract.Ptr[int]
	// A permutation of 0..n-1 when n is not a multiple of 7919 (prime).
	id := (i * 7919) % n
	f := &contract.Facts{
		Schema: contract.FactsSchema,
		Host: contract.Host{
			Name: fmt.Sprintf("host-%07d", id), Address: fmt.Sprintf("10.%d.%d.%d", id>>16&255, id>>8&255, id&255),
			Port: 22, Transport: "ssh", Auth: p("publickey"),
			Labels: map[string]string{"env": []string{"prod", "staging", "dev"}[id%3], "rack": fmt.Sprintf("r%02d", id%40)},
		},
		CollectedAt: collected,
		Reachable:   true,
		OS:          &contract.OS{Family: p("linux"), ID: p("centos"), Name: p("CentOS Linux"), Version: p("7.9.2009"), Kernel: p("3.10.0-1160.el7.x86_64")},
		OpenSSH:     &contract.OpenSSH{Banner: p("SSH-2.0-OpenSSH_7.4"), Version: p("7.4p1"), Major: num(7), Minor: num(4), Source: "banner"},
		SSHD: &contract.SSHD{PasswordAuthentication: b(true), KbdInteractiveAuthentication: b(true), UsePAM: b(true),
			PermitEmptyPasswords: b(false), PermitRootLogin: p("yes"), Source: "sshd -T"},
		SELinux: &contract.SELinux{Installed: b(true), Mode: p("disabled"), ConfigMode: p("disabled"), Source: "getenforce"},
		HSS: &contract.HSS{AgentInstalled: b(true), AgentRunning: b(true), HostID: p(fmt.Sprintf("%08x-0000-4000-8000-%012x", id, id)),
			AgentStatus: p("online"), ProtectStatus: p("opened"), HostStatus: p("ACTIVE"),
			TwoFactor: &contract.TwoFactor{Enabled: b(false)}},
		DurationMS: int64(300 + id%900),
	}
	switch i % 10 {
	case 1: // Ubuntu 20.04: OpenSSH 8.2, no SELinux
		f.OS = &contract.OS{Family: p("linux"), ID: p("ubuntu"), Name: p("Ubuntu"), Version: p("20.04.6 LTS (Focal Fossa)"), Kernel: p("5.4.0-190-generic")}
		f.OpenSSH = &contract.OpenSSH{Banner: p("SSH-2.0-OpenSSH_8.2p1 Ubuntu-4ubuntu0.11"), Version: p("8.2p1"), Major: num(8), Minor: num(2), Source: "banner"}
		f.SELinux = &contract.SELinux{Installed: b(false), Mode: p("disabled"), Source: "getenforce"}
	case 2: // SELinux permissive, root logins by key only
		f.SELinux.Mode, f.SELinux.ConfigMode = p("permissive"), p("permissive")
		f.SSHD.PermitRootLogin = p("prohibit-password")
	case 3: // 2FA on, SELinux back at boot
		f.SELinux.ConfigMode = p("enforcing")
		f.HSS.TwoFactor = &contract.TwoFactor{Enabled: b(true), AuthType: p("code")}
	case 4: // 2FA on and eligible
		f.HSS.TwoFactor = &contract.TwoFactor{Enabled: b(true), AuthType: p("code")}
	case 5, 6: // Windows
		f.Host.Port, f.Host.Transport, f.Host.Auth = 5986, "winrm", p("ntlm")
		f.OS = &contract.OS{Family: p("windows"), ID: p("windows"), Name: p("Windows Server 2019 Datacenter"), Version: p("10.0.17763"), Build: p("17763")}
		f.OpenSSH, f.SSHD, f.SELinux = nil, nil, nil
		f.RDP = &contract.RDP{Enabled: b(true), Port: num(3389), NLA: b(true)}
		f.Accounts = []contract.Account{
			{Name: "Administrator", Enabled: b(true), MustChangePassword: b(i%10 == 5)},
			{Name: "Guest", Enabled: b(false), MustChangePassword: b(true)},
		}
		f.SecurityProducts = []string{}
	case 7: // no cloud facts, scanned by password
		f.HSS = &contract.HSS{AgentInstalled: b(true), AgentRunning: b(true)}
		f.Host.Auth = p("password")
	case 8: // unreachable
		f.Reachable = false
		f.Error = p(fmt.Sprintf("dial tcp %s:22: i/o timeout", f.Host.Address))
		f.OS, f.OpenSSH, f.SSHD, f.SELinux, f.HSS = nil, nil, nil, nil, nil
	}
	return f
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

// Lines returns a fleet of n hosts as raw JSON lines, for benchmarks.
func Lines(n int) ([][]byte, error) {
	out := make([][]byte, n)
	for i := range n {
		b, err := json.Marshal(Host(i, n))
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

package fleetsim

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/scanner/probe"
)

// Mode is how a simulated host behaves on the wire.
type Mode int

const (
	// Normal hosts log the client in and answer its commands.
	Normal Mode = iota
	// RefuseAuth hosts speak SSH but refuse every credential.
	RefuseAuth
	// Silent hosts accept the TCP connection and never send a byte.
	Silent
	// Stall hosts log in, send the first half of their answer and then
	// hold the channel open without finishing.
	Stall
)

// Profile is one kind of simulated host.
type Profile struct {
	// Name identifies the profile, e.g. "centos7".
	Name string
	// Description says what is special about the host.
	Description string
	// OS is "linux" or "windows"; the inventory says os: windows for the
	// latter so that the scanner runs the Windows probe.
	OS string
	// Banner is the full SSH identification string the host sends, e.g.
	// "SSH-2.0-OpenSSH_7.4".
	Banner string
	// Answer runs one exec request. It is called with the exact command
	// string the client sent.
	Answer func(cmd string) (stdout, stderr []byte, exit int)
	// Mode is how the host behaves on the wire.
	Mode Mode
	// Expect is the verdict of the default policy bundle.
	Expect Expectation
}

// Expectation is the verdict expected for a profile when scanned without
// cloud facts, in verification-code mode (no SMN topic involved).
type Expectation struct {
	// Status is the Decision status: eligible, ineligible or
	// unreachable.
	Status contract.Status
	// Violations and Warnings are the check IDs found, sorted, without
	// repeats.
	Violations []string
	Warnings   []string
	// Facts is true when the probe's output parses.
	Facts bool
}

var (
	registryMu sync.RWMutex
	registry   []Profile
)

// Register adds a profile; other files of this package call it from init
// (windows.go registers the OpenSSH for Windows profiles). It panics on an
// empty or repeated name, or a Normal or Stall profile without Answer.
func Register(p Profile) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if p.Name == "" || !strings.HasPrefix(p.Banner, "SSH-2.0-") {
		panic(fmt.Sprintf("fleetsim: profile %q needs a name and an SSH-2.0- banner", p.Name))
	}
	if p.Answer == nil && (p.Mode == Normal || p.Mode == Stall) {
		panic(fmt.Sprintf("fleetsim: profile %q answers no command", p.Name))
	}
	for _, q := range registry {
		if q.Name == p.Name {
			panic(fmt.Sprintf("fleetsim: profile %q registered twice", p.Name))
		}
	}
	if p.OS == "" {
		p.OS = "linux"
	}
	registry = append(registry, p)
}

// Profiles returns every registered profile, in registration order.
func Profiles() []Profile {
	registryMu.RLock()
	defer registryMu.RUnlock()
	return slices.Clone(registry)
}

// Lookup returns the profile called name.
func Lookup(name string) (Profile, bool) {
	registryMu.RLock()
	defer registryMu.RUnlock()
	for _, p := range registry {
		if p.Name == name {
			return p, true
		}
	}
	return Profile{}, false
}

// Mixed returns n hosts cycling through every profile that answers
// promptly (all but Silent and Stall, which only time out), named
// "<profile>-<n>": a fleet for demos and benchmarks with every verdict.
func Mixed(n int) []HostSpec {
	var names []string
	for _, p := range Profiles() {
		if p.Mode == Normal || p.Mode == RefuseAuth {
			names = append(names, p.Name)
		}
	}
	specs := make([]HostSpec, 0, n)
	for i := 0; i < n && len(names) > 0; i++ {
		name := names[i%len(names)]
		specs = append(specs, HostSpec{Name: fmt.Sprintf("%s-%04d", name, i+1), Profile: name})
	}
	return specs
}

// LinuxAnswer answers exactly probe.Linux with stdout and exit
// status 0, and exactly probe.LinuxNoSudo (ssh.sudo: false) with
// stdout less its sshd-T-sudo section, as that probe never runs sudo; any
// other command gets the shell's "not found" and 127.
func LinuxAnswer(stdout []byte) func(cmd string) ([]byte, []byte, int) {
	noSudo := withoutSection(stdout, "sshd-T-sudo")
	return func(cmd string) ([]byte, []byte, int) {
		switch cmd {
		case probe.Linux:
			return stdout, nil, 0
		case probe.LinuxNoSudo:
			return noSudo, nil, 0
		}
		return nil, []byte(notFound(cmd)), 127
	}
}

// withoutSection drops the framed section called name from probe output.
func withoutSection(out []byte, name string) []byte {
	begin := "@@factorgate:begin " + name + "@@"
	var kept []string
	skipping := false
	for _, line := range strings.SplitAfter(string(out), "\n") {
		l := strings.TrimSuffix(line, "\n")
		switch {
		case !skipping && l == begin:
			skipping = true
		case skipping && strings.HasPrefix(l, "@@factorgate:end ") && strings.HasSuffix(l, " "+name+"@@"):
			skipping = false
		case !skipping:
			kept = append(kept, line)
		}
	}
	return []byte(strings.Join(kept, ""))
}

// notFound is what sh says of an unknown command.
func notFound(cmd string) string {
	word := "''"
	if f := strings.Fields(cmd); len(f) > 0 {
		word = f[0]
		if len(word) > 40 {
			word = word[:40]
		}
	}
	return "sh: 1: " + word + ": not found\n"
}

// Profile names of the Linux hosts.
const (
	CentOS7              = "centos7"
	Debian10             = "debian10"
	Ubuntu1804           = "ubuntu1804"
	RHEL8                = "rhel8"
	Ubuntu2004           = "ubuntu2004"
	Debian12             = "debian12"
	PasswordOff          = "password-off"
	PAMOff               = "pam-off"
	ChallengeResponseOff = "challenge-response-off"
	EmptyPasswords       = "empty-passwords"
	SELinuxEnforcing     = "selinux-enforcing"
	SELinuxPermissive    = "selinux-permissive"
	SELinuxAtReboot      = "selinux-enforcing-at-reboot"
	NoAgent              = "no-agent"
	AgentStopped         = "agent-stopped"
	SSHDTUnreadable      = "sshd-t-unreadable"
	RootLoginNo          = "permit-root-login-no"
	AuthRefused          = "auth-refused"
	NeverSpeaks          = "never-speaks-ssh"
	StallsMidProbe       = "stalls-mid-probe"
	Garbage              = "garbage-output"
)

// Banners of the stock releases.
const (
	bannerCentOS7    = "SSH-2.0-OpenSSH_7.4"
	bannerDebian10   = "SSH-2.0-OpenSSH_7.9p1 Debian-10+deb10u2"
	bannerUbuntu1804 = "SSH-2.0-OpenSSH_7.6p1 Ubuntu-4ubuntu0.7"
	bannerRHEL8      = "SSH-2.0-OpenSSH_8.0"
	bannerUbuntu2004 = "SSH-2.0-OpenSSH_8.2p1 Ubuntu-4ubuntu0.5"
	bannerDebian12   = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3"
)

// Section texts shared by the profiles.
const (
	selinuxConfig = "\n# This file controls the state of SELinux on the system.\n# SELINUX= can take one of these three values:\n#     enforcing - SELinux security policy is enforced.\n#     permissive - SELinux prints warnings instead of enforcing.\n#     disabled - No SELinux policy is loaded.\nSELINUX=%s\n# SELINUXTYPE= can take one of three values:\n#     targeted - Targeted processes are protected,\n#     minimum - Modification of targeted policy. Only selected processes are protected. \n#     mls - Multi Level Security protection.\nSELINUXTYPE=targeted \n"
)

// ready2FA edits a stock capture the way the HSS FAQ (hss_01_0440) asks
// before 2FA: keyboard-interactive through PAM on, root allowed to log in
// by password, and the HSS agent installed and running.
func ready2FA(p *probeOutput, kbdKeyword string) *probeOutput {
	p.setting(kbdKeyword, "yes")
	if kbdKeyword == "ChallengeResponseAuthentication" {
		// sshd turns keyboard-interactive on with challenge-response.
		for i, s := range p.sections {
			if (s.name == "sshd-T" || s.name == "sshd-T-sudo") && s.rc == 0 {
				p.sections[i].text = strings.Replace(s.text, "kbdinteractiveauthentication no", "kbdinteractiveauthentication yes", 1)
			}
		}
	}
	p.setting("PermitRootLogin", "yes")
	return agentRunning(p)
}

// agentRunning installs a running HSS agent.
func agentRunning(p *probeOutput) *probeOutput {
	p.set("hss-dir", "", 0, "")
	p.set("hss-procs", "hostwatch\nhostguard", 0, "")
	p.set("hss-service", "active", 0, "")
	return p
}

// selinux sets SELinux's state now (getenforce's word) and in its config.
func selinux(p *probeOutput, now, config string) *probeOutput {
	p.set("getenforce", now, 0, "")
	switch now {
	case "Enforcing":
		p.set("selinux-enforce", "1", 0, "")
		p.set("selinuxfs", "", 0, "")
	case "Permissive":
		p.set("selinux-enforce", "0", 0, "")
		p.set("selinuxfs", "", 0, "")
	default:
		p.set("selinux-enforce", "", 127, "")
		p.set("selinuxfs", "", 1, "")
	}
	p.set("selinux-config", fmt.Sprintf(selinuxConfig, config), 0, "")
	return p
}

func init() {
	eligible := Expectation{Status: contract.StatusEligible, Warnings: []string{"protection"}, Facts: true}
	fails := func(check string) Expectation {
		return Expectation{Status: contract.StatusIneligible, Violations: []string{check}, Warnings: []string{"protection"}, Facts: true}
	}
	centos7 := func() *probeOutput { return ready2FA(loadCapture("centos7"), "ChallengeResponseAuthentication") }
	linux := func(name, desc, banner string, out *probeOutput, want Expectation) {
		Register(Profile{Name: name, Description: desc, OS: "linux", Banner: banner, Answer: LinuxAnswer(out.render()), Expect: want})
	}

	// Eligible: releases with OpenSSH 7, configured for 2FA.
	linux(CentOS7, "CentOS 7.9, OpenSSH 7.4, SELinux disabled, sshd set up for 2FA (ChallengeResponseAuthentication yes), agent running",
		bannerCentOS7, centos7(), eligible)
	linux(Debian10, "Debian 10, OpenSSH 7.9, no SELinux, password settings on (ChallengeResponseAuthentication yes, PermitRootLogin yes), agent running",
		bannerDebian10, ready2FA(loadCapture("debian10"), "ChallengeResponseAuthentication"), eligible)
	linux(Ubuntu1804, "Ubuntu 18.04, OpenSSH 7.6, no SELinux, sshd set up for 2FA, agent running",
		bannerUbuntu1804, ready2FA(loadCapture("ubuntu1804"), "ChallengeResponseAuthentication"), eligible)

	// OpenSSH 8 or later: everything else in order.
	linux(RHEL8, "RHEL 8.10, OpenSSH 8.0 (too new), read through sudo, set up for 2FA otherwise",
		bannerRHEL8, selinux(ready2FA(loadCapture("rhel8"), "ChallengeResponseAuthentication"), "Disabled", "disabled"), fails("openssh_version"))
	u2004 := ready2FA(loadCapture("ubuntu2004"), "ChallengeResponseAuthentication")
	linux(Ubuntu2004, "Ubuntu 20.04, OpenSSH 8.2 (too new), read from sshd_config and its Include without root, set up for 2FA otherwise",
		bannerUbuntu2004, u2004, fails("openssh_version"))
	linux(Debian12, "Debian 12, OpenSSH 9.2 (too new), set up for 2FA otherwise",
		bannerDebian12, ready2FA(loadCapture("debian12"), "KbdInteractiveAuthentication"), fails("openssh_version"))

	// One reason each, on the eligible CentOS 7 host.
	linux(PasswordOff, "CentOS 7 with PasswordAuthentication no",
		bannerCentOS7, centos7().setting("PasswordAuthentication", "no"), fails("password_login"))
	linux(PAMOff, "CentOS 7 with UsePAM no",
		bannerCentOS7, centos7().setting("UsePAM", "no"), fails("password_login"))
	crOff := agentRunning(loadCapture("centos7"))
	linux(ChallengeResponseOff, "CentOS 7 as installed: ChallengeResponseAuthentication no",
		bannerCentOS7, crOff, fails("password_login"))
	linux(EmptyPasswords, "CentOS 7 with PermitEmptyPasswords yes",
		bannerCentOS7, centos7().setting("PermitEmptyPasswords", "yes"), fails("password_login"))
	linux(SELinuxEnforcing, "CentOS 7 with SELinux enforcing",
		bannerCentOS7, selinux(centos7(), "Enforcing", "enforcing"), fails("selinux"))
	linux(SELinuxPermissive, "CentOS 7 with SELinux permissive",
		bannerCentOS7, selinux(centos7(), "Permissive", "permissive"), fails("selinux"))
	linux(SELinuxAtReboot, "CentOS 7 with SELinux off now but SELINUX=enforcing in /etc/selinux/config",
		bannerCentOS7, selinux(centos7(), "Disabled", "enforcing"), fails("selinux"))
	noAgent := centos7()
	noAgent.set("hss-dir", "", 1, "").set("hss-procs", "", 0, "").set("hss-service", "inactive", 3, "")
	linux(NoAgent, "CentOS 7 without the HSS agent",
		bannerCentOS7, noAgent, Expectation{Status: contract.StatusIneligible, Violations: []string{"protection"}, Facts: true})
	stopped := centos7()
	stopped.set("hss-procs", "", 0, "").set("hss-service", "inactive", 3, "")
	linux(AgentStopped, "CentOS 7 with the HSS agent installed but stopped",
		bannerCentOS7, stopped, Expectation{Status: contract.StatusIneligible, Violations: []string{"protection"}, Facts: true})
	unreadable := ready2FA(loadCapture("debian10"), "ChallengeResponseAuthentication")
	unreadable.set("id-u", "1000", 0, "")
	unreadable.set("sshd-T", "sshd: no hostkeys available -- exiting.", 1, "")
	unreadable.set("sshd-T-sudo", "sudo: a password is required", 1, "sshd_config /etc/ssh/sshd_config")
	unreadable.setting("PasswordAuthentication", "yes")
	linux(SSHDTUnreadable, "Debian 10 scanned without root or sudo: sshd -T fails, the facts come from sshd_config (set up for 2FA)",
		bannerDebian10, unreadable, eligible)
	linux(RootLoginNo, "CentOS 7 with PermitRootLogin no: eligible, but root password logins will fail",
		bannerCentOS7, centos7().setting("PermitRootLogin", "no"),
		Expectation{Status: contract.StatusEligible, Warnings: []string{"password_login", "protection"}, Facts: true})

	// Transport failures.
	unreachable := Expectation{Status: contract.StatusUnreachable, Violations: []string{"reachable"}}
	Register(Profile{Name: AuthRefused, Description: "speaks SSH but refuses every credential", Banner: bannerCentOS7,
		Mode: RefuseAuth, Expect: unreachable})
	Register(Profile{Name: NeverSpeaks, Description: "accepts TCP connections and never sends a byte", Banner: bannerCentOS7,
		Mode: Silent, Expect: unreachable})
	Register(Profile{Name: StallsMidProbe, Description: "logs in, sends half the probe's output and stalls", Banner: bannerCentOS7,
		Answer: LinuxAnswer(centos7().render()), Mode: Stall, Expect: unreachable})
	Register(Profile{Name: Garbage, Description: "answers the probe with text that is not its output", Banner: bannerCentOS7,
		Answer: func(cmd string) ([]byte, []byte, int) {
			return []byte("Welcome to BusyBox!\n\x1b[1;31mERROR\x1b[0m: unknown shell\n\x00\x01\x02"), nil, 0
		},
		Expect: Expectation{Status: contract.StatusIneligible, Violations: []string{"os_supported", "protection"}}})
}

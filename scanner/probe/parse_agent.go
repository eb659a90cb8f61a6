package probe

import (
	"strings"

	"github.com/factorgate/factorgate/contract"
)

// hssAgentFacts reads whether the HSS agent is installed and running from
// the hss-dir, hss-procs, hss-service, id-u and proc-mount sections.
//
// Installed: /usr/local/hostguard is a directory. Running: a hostguard
// process is visible, or `systemctl is-active hostguard` says active. Not
// running: neither, provided the probe could see every process (it ran as
// root, or /proc is mounted without hidepid) or systemd answered for the
// service. Anything else is unknown.
func hssAgentFacts(p *probeOutput) (installed, running *bool) {
	if s := p.section("hss-dir"); s != nil {
		switch s.rc {
		case 0:
			installed = contract.Ptr(true)
		case 1:
			installed = contract.Ptr(false)
		}
	}

	procs := p.section("hss-procs")
	seen := false
	if procs != nil {
		for _, line := range strings.Split(procs.text, "\n") {
			if strings.TrimSpace(line) == "hostguard" {
				seen = true
			}
		}
	}
	service := ""
	if s := p.section("hss-service"); s != nil && s.rc != 127 {
		switch w := lxFirstLine(s.text); w {
		case "active", "reloading", "activating":
			service = "active"
		case "inactive", "failed", "deactivating":
			service = "inactive"
		case "unknown":
			// systemd knows no such unit: the agent is not a service here.
			service = "inactive"
		}
	}
	switch {
	case seen || service == "active":
		running = contract.Ptr(true)
	case procs != nil && procs.done && (service == "inactive" || allProcessesVisible(p)):
		running = contract.Ptr(false)
	}
	return installed, running
}

// allProcessesVisible reports whether the probe could read every process's
// /proc entry: it ran as root, or /proc has no hidepid restriction.
func allProcessesVisible(p *probeOutput) bool {
	if uid, ok := p.ok("id-u"); ok && strings.TrimSpace(uid) == "0" {
		return true
	}
	mnt, ok := p.ok("proc-mount")
	if !ok {
		return false
	}
	for _, f := range strings.Fields(mnt) {
		for _, opt := range strings.Split(f, ",") {
			if strings.HasPrefix(opt, "hidepid=") && opt != "hidepid=0" && opt != "hidepid=off" {
				return false
			}
		}
	}
	return true
}

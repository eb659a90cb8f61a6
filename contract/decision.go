package contract

import (
	"fmt"
	"strings"
	"time"
)

// ReportSchema is the schema tag of a [Report].
const ReportSchema = "factorgate/report/v1"

// Status is the verdict on one host: whether it can take 2FA, has it, or
// could not be judged. It is written as its string in every format.
type Status string

// The statuses a [Decision] can carry.
const (
	StatusEligible          Status = "eligible"
	StatusIneligible        Status = "ineligible"
	StatusEnabled           Status = "enabled"
	StatusEnabledIneligible Status = "enabled_ineligible"
	StatusUnreachable       Status = "unreachable"
)

// Statuses lists every status in the order reports show them.
var Statuses = []Status{StatusEligible, StatusEnabled, StatusIneligible, StatusEnabledIneligible, StatusUnreachable}

// ParseStatus returns the status named s, or an error listing the valid
// statuses when s names none.
func ParseStatus(s string) (Status, error) {
	for _, st := range Statuses {
		if string(st) == s {
			return st, nil
		}
	}
	names := make([]string, len(Statuses))
	for i, st := range Statuses {
		names[i] = string(st)
	}
	return "", fmt.Errorf("unknown status %q: want one of %s", s, strings.Join(names, ", "))
}

// String returns the status as reports write it.
func (s Status) String() string { return string(s) }

// Passes reports whether the status passes the default gate: the host has
// 2FA or can take it. Any other status, an unknown one included, fails.
func (s Status) Passes() bool { return s == StatusEligible || s == StatusEnabled }

// Decision is the verdict of the policies on one host.
type Decision struct {
	Host      string  `json:"host"`
	Address   *string `json:"address"`
	HSSHostID *string `json:"hss_host_id"`
	// Auth is how the scanner logged in; enable refuses password hosts.
	Auth *string `json:"auth"`
	OS   *string `json:"os"`
	// Transport is how the scanner reached the host (ssh, winrm), which
	// tells Windows over OpenSSH from Windows over WinRM; absent when
	// unknown.
	Transport  *string   `json:"transport,omitempty"`
	Status     Status    `json:"status"`
	Eligible   bool      `json:"eligible"`
	Violations []Finding `json:"violations"`
	Warnings   []Finding `json:"warnings"`
	// Waived are violations a waiver covers: shown, never counted as passed,
	// and not counted toward the status.
	Waived []Finding `json:"waived"`
	// Labels are the host's inventory labels, for waivers and reports.
	Labels map[string]string `json:"labels,omitempty"`
}

// Finding is one violation or warning.
type Finding struct {
	Check       string  `json:"check"`
	Message     string  `json:"message"`
	Remediation string  `json:"remediation"`
	Severity    string  `json:"severity"`
	Waiver      *Waiver `json:"waiver,omitempty"`
}

// Waiver is why a violation is accepted, and until when.
type Waiver struct {
	Justification string `json:"justification"`
	Expires       string `json:"expires"`
}

// Report is the output of `check --format json`.
type Report struct {
	Schema      string         `json:"schema"`
	GeneratedAt time.Time      `json:"generated_at"`
	Summary     map[Status]int `json:"summary"`
	Decisions   []Decision     `json:"decisions"`
	// NotScanned are hosts HSS knows that the inventory lacks.
	NotScanned []CloudHost `json:"not_scanned,omitempty"`
}

// CloudHost is a host as the HSS API lists it.
type CloudHost struct {
	HostID        string `json:"host_id"`
	HostName      string `json:"host_name"`
	PrivateIP     string `json:"private_ip,omitempty"`
	PublicIP      string `json:"public_ip,omitempty"`
	OSType        string `json:"os_type,omitempty"`
	AgentStatus   string `json:"agent_status,omitempty"`
	ProtectStatus string `json:"protect_status,omitempty"`
}

// NewReport gathers decisions into a report with its summary. The decisions
// must already be sorted by host.
func NewReport(now time.Time, ds []Decision) *Report {
	sum := make(map[Status]int, len(Statuses))
	for _, s := range Statuses {
		sum[s] = 0
	}
	for _, d := range ds {
		sum[d.Status]++
	}
	if ds == nil {
		ds = []Decision{}
	}
	return &Report{Schema: ReportSchema, GeneratedAt: now.UTC(), Summary: sum, Decisions: ds}
}

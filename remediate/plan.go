// Package remediate turns HSS 2FA (two-factor authentication) on, and off
// again, on exactly the hosts the policies found eligible, through the HSS
// API.
//
// # Entry points
//
// [ReadSavedFile] reads saved Decisions (a report or JSON lines) and
// [Saved.Fresh] says whether they are recent enough to act on. [Prepare]
// makes the plan with what the cloud shows now: it reads the HSS 2FA host
// list and, before an apply in sms mode, checks the SMN topic; [NewPlan]
// makes it from the decisions alone. A plan says what would change and why
// every other host is left alone; [Plan.Render] prints it in 80 columns the
// way `terraform plan` does. Nothing changes until [Apply], which sends the
// changes in batches, writes a [Journal] before and after each API call,
// stops when too many hosts fail, and then polls the 2FA host list until
// every changed host shows the new setting, telling a [Progress] as it
// goes. [Resume] finishes an apply that was interrupted, from its journal,
// without changing any host twice. Each host ends with an [Outcome];
// [NewReport] gathers the plan and the [Result] into the JSON document of
// `enable --format json`.
//
// # Safety
//
// Remediate never decides eligibility: it acts on Decisions, and on what
// the HSS 2FA host list shows now ([Options.Live]): disable turns 2FA off
// where the list shows it on, whatever a (perhaps stale) decision says, and
// enable takes no host as done unless the list shows the exact setting
// asked for. A host decided twice stops the plan. A host the
// scanner reached by password is refused unless [Options.Force] is set,
// because after 2FA the scanner itself would be asked for a code; logins
// through CloudShell and bastion hosts (CBH) fail under 2FA, and the plan
// says so. A host the API refuses is a failure of that host, never of the
// rest.
package remediate

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/factorgate/factorgate/cloud"
	"github.com/factorgate/factorgate/contract"
)

// Action is what a plan does to 2FA.
type Action string

// The actions.
const (
	Enable  Action = "enable"
	Disable Action = "disable"
)

// Defaults of [Options].
const (
	DefaultBatchSize     = 20
	DefaultMaxFailures   = 10
	DefaultVerifyTimeout = 10 * time.Minute
	DefaultPollInterval  = 15 * time.Second
)

// Options tune a plan and its apply.
type Options struct {
	Action Action
	// AuthType is cloud.AuthSMS or cloud.AuthCode (enable only).
	AuthType string
	// TopicURN and TopicDisplayName name the SMN topic of sms mode.
	TopicURN         string
	TopicDisplayName string
	// BatchSize is how many hosts one API call changes; zero uses
	// DefaultBatchSize.
	BatchSize int
	// MaxFailures stops the apply once more hosts than this have failed;
	// negative never stops.
	MaxFailures int
	// VerifyTimeout bounds the wait for the 2FA list to show every change;
	// PollInterval is the wait between looks. Zero uses the defaults.
	VerifyTimeout time.Duration
	PollInterval  time.Duration
	// Force enables hosts the scanner reached by password.
	Force bool
	// IncludeWaived enables hosts that are eligible only through waivers.
	IncludeWaived bool
	// Progress is told how the apply and its verification advance; nil
	// tells nothing. Events worth a log line (a batch refused and retried
	// host by host, the apply stopped by --max-failures, a failed look at
	// the 2FA host list) go to the default [log/slog] logger.
	Progress Progress
	// Now is the clock of journal entries; nil uses time.Now.
	Now func() time.Time
	// AfterBatch, when set, runs after each batch is journaled; an error
	// stops the apply there, as an interruption would.
	AfterBatch func(batch int) error
	// Live is the HSS 2FA host list as it stands now, by host id (see
	// [LiveState]); nil when it was not read. With it, [NewPlan] plans
	// disable from each host's true 2FA state, whatever its decision says,
	// and enable leaves alone the hosts that already show the wanted
	// setting. Without it, disable cannot tell whether an eligible or
	// ineligible host has 2FA on, and leaves it alone saying so.
	Live map[string]cloud.TwoFactorHost
}

// LiveState indexes the 2FA host list by host id for [Options.Live]. It
// never returns nil, so an empty list still counts as read.
func LiveState(list []cloud.TwoFactorHost) map[string]cloud.TwoFactorHost {
	m := make(map[string]cloud.TwoFactorHost, len(list))
	for _, t := range list {
		m[t.HostID] = t
	}
	return m
}

func (o Options) withDefaults() Options {
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.VerifyTimeout <= 0 {
		o.VerifyTimeout = DefaultVerifyTimeout
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.Progress == nil {
		o.Progress = noProgress{}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Target is a host a plan changes.
type Target struct {
	Host   string `json:"host"`
	HostID string `json:"host_id"`
	// Note says what the change replaces, when 2FA is already on with
	// another setting.
	Note string `json:"note,omitempty"`
}

// Skip is a host a plan leaves alone, and why.
type Skip struct {
	Host   string `json:"host"`
	HostID string `json:"host_id,omitempty"`
	Reason string `json:"reason"`
}

// Plan is what an apply would do.
type Plan struct {
	Action           Action   `json:"action"`
	AuthType         string   `json:"auth_type,omitempty"`
	TopicURN         string   `json:"topic_urn,omitempty"`
	TopicDisplayName string   `json:"topic_display_name,omitempty"`
	Changes          []Target `json:"changes"`
	Skipped          []Skip   `json:"skipped"`
	Warnings         []string `json:"warnings"`
}

// ErrBadOptions is returned by [NewPlan] when the options cannot make a plan.
var ErrBadOptions = errors.New("bad options")

// ErrBadDecisions is returned by [NewPlan] when the decisions cannot make a
// plan: a host decided twice, which one to act on is anyone's guess.
var ErrBadDecisions = errors.New("bad decisions")

// NewPlan decides which hosts the action changes.
//
// Enable changes exactly the hosts whose status is eligible, whose decision
// agrees with itself (eligible true, no violations) and whose HSS host id is
// known; with [Options.Live] it leaves alone those that already show the
// wanted setting. Disable, with [Options.Live], changes the hosts whose
// known HSS host id shows 2FA on in the live list, whatever their status
// says; without it, the hosts whose status says 2FA is on (enabled or
// enabled_ineligible). Every other host is skipped with its reason.
// Decisions are taken in host order; a host decided twice is an
// [ErrBadDecisions].
func NewPlan(ds []contract.Decision, opts Options) (*Plan, error) {
	p := &Plan{Action: opts.Action, Changes: []Target{}, Skipped: []Skip{}, Warnings: []string{}}
	switch opts.Action {
	case Enable:
		switch opts.AuthType {
		case cloud.AuthCode:
		case cloud.AuthSMS:
			if opts.TopicURN == "" {
				return nil, fmt.Errorf("%w: auth mode sms needs a topic URN (--topic-urn)", ErrBadOptions)
			}
			p.TopicURN, p.TopicDisplayName = opts.TopicURN, opts.TopicDisplayName
		default:
			return nil, fmt.Errorf("%w: auth mode %q: want sms or code", ErrBadOptions, opts.AuthType)
		}
		p.AuthType = opts.AuthType
	case Disable:
	default:
		return nil, fmt.Errorf("%w: action %q: want enable or disable", ErrBadOptions, opts.Action)
	}
	hosts := make(map[string]bool, len(ds))
	for _, d := range ds {
		if hosts[d.Host] {
			return nil, fmt.Errorf("%w: host %s is decided more than once: keep one decision per host", ErrBadDecisions, d.Host)
		}
		hosts[d.Host] = true
	}
	ds = append([]contract.Decision(nil), ds...)
	sort.SliceStable(ds, func(i, j int) bool { return ds[i].Host < ds[j].Host })

	seen := map[string]string{} // host id -> host
	var forced []string
	for _, d := range ds {
		id := ""
		if d.HSSHostID != nil {
			id = strings.TrimSpace(*d.HSSHostID)
		}
		reason, note := "", ""
		if opts.Action == Enable {
			reason = enableSkip(d, opts)
			if cur, ok := opts.Live[id]; reason == "" && id != "" && ok && cur.Enabled {
				if matches(cur, opts.AuthType, opts.TopicURN) {
					reason = "2FA already on (the HSS 2FA host list shows it)"
				} else {
					note = "2FA is on now with " + describe(cur) + ": it will be replaced"
				}
			}
		} else {
			reason = disableSkip(d, id, opts.Live)
		}
		if reason == "" && id == "" {
			reason = "unknown HSS host id: scan with cloud credentials, or set hss_host_id in the inventory"
		}
		if reason == "" {
			if other, dup := seen[id]; dup {
				reason = "same HSS host id as " + other
			}
		}
		if reason != "" {
			p.Skipped = append(p.Skipped, Skip{Host: d.Host, HostID: id, Reason: reason})
			continue
		}
		seen[id] = d.Host
		p.Changes = append(p.Changes, Target{Host: d.Host, HostID: id, Note: note})
		if opts.Action == Enable && byPassword(d) {
			forced = append(forced, d.Host)
		}
	}
	if opts.Action == Enable {
		if len(forced) > 0 {
			p.Warnings = append(p.Warnings, fmt.Sprintf("--force: the scanner logs in to %s by password: after 2FA it will be asked for a code and its scans will fail; scan these hosts with keys",
				strings.Join(forced, ", ")))
		}
		if len(p.Changes) > 0 {
			p.Warnings = append(p.Warnings,
				"logins through CloudShell and through a bastion host (CBH) fail on a server with 2FA on: use an SSH client with Keyboard Interactive login, or RDP",
				"2FA takes about 5 minutes to take effect after it is set")
		}
	}
	return p, nil
}

func enableSkip(d contract.Decision, opts Options) string {
	switch d.Status {
	case contract.StatusEligible:
		if !d.Eligible {
			return "decision is inconsistent: status eligible with eligible false: re-run check"
		}
		if len(d.Violations) > 0 {
			return "decision is inconsistent: status eligible with violations (" + checks(d.Violations) + "): re-run check"
		}
		if len(d.Waived) > 0 && !opts.IncludeWaived {
			return "eligible only through waivers (" + checks(d.Waived) + "): pass --include-waived to enable it"
		}
		if byPassword(d) && !opts.Force {
			return "the scanner logs in by password: after 2FA it would be asked for a code (scan with keys, or pass --force)"
		}
		return ""
	case contract.StatusIneligible:
		return "ineligible" + firstViolation(d)
	case contract.StatusEnabled, contract.StatusEnabledIneligible:
		return "2FA already on (" + statusWords(d.Status) + ")"
	case contract.StatusUnreachable:
		if len(d.Violations) > 0 && d.Violations[0].Message != "" {
			return "unreachable: " + d.Violations[0].Message
		}
		return "unreachable"
	}
	return fmt.Sprintf("unknown status %q", d.Status)
}

// byPassword reports whether the scanner reached a host by an SSH password,
// which 2FA would then ask a code of. WinRM logins are not covered by 2FA,
// which guards RDP on Windows.
func byPassword(d contract.Decision) bool {
	return d.Auth != nil && *d.Auth == "password" && (d.OS == nil || *d.OS != "windows")
}

// disableSkip says why disable leaves a host alone. With the live 2FA list
// the host's true state decides; without it only a status that says 2FA is
// on does, because eligible and ineligible are also what a scan without
// cloud credentials concludes of a host whose 2FA it could not see.
func disableSkip(d contract.Decision, id string, live map[string]cloud.TwoFactorHost) string {
	if live != nil {
		if id == "" {
			return "HSS host id unknown: set hss_host_id in the inventory, or scan with cloud credentials"
		}
		cur, ok := live[id]
		switch {
		case !ok:
			return "not in the HSS 2FA host list (no HSS agent): 2FA cannot be on"
		case !cur.Enabled:
			return "2FA is off (the HSS 2FA host list shows it)"
		}
		return ""
	}
	switch d.Status {
	case contract.StatusEnabled, contract.StatusEnabledIneligible:
		return ""
	case contract.StatusEligible, contract.StatusIneligible:
		return "2FA state unknown (decision says " + statusWords(d.Status) + "): run with cloud credentials to read the HSS 2FA host list"
	case contract.StatusUnreachable:
		return "unreachable: its 2FA setting is unknown"
	}
	return fmt.Sprintf("unknown status %q", d.Status)
}

// matches reports whether a 2FA list entry shows 2FA on with the given auth
// type and, for sms, the given topic.
func matches(t cloud.TwoFactorHost, authType, topicURN string) bool {
	if !t.Enabled || t.AuthType != authType {
		return false
	}
	return authType != cloud.AuthSMS || t.TopicURN == topicURN
}

// describe says in words what a 2FA list entry shows, e.g. "auth type sms,
// topic urn:smn:...".
func describe(t cloud.TwoFactorHost) string {
	if !t.Enabled {
		return "2FA off"
	}
	s := "auth type " + t.AuthType
	if t.AuthType == "" {
		s = "an unknown auth type"
	}
	switch {
	case t.AuthType == cloud.AuthSMS && t.TopicURN == "":
		s += ", no topic"
	case t.AuthType == cloud.AuthSMS:
		s += ", topic " + t.TopicURN
	}
	return s
}

// statusWords says a decision's status in words: enabled_ineligible is
// "enabled, no longer eligible".
func statusWords(s contract.Status) string {
	if s == contract.StatusEnabledIneligible {
		return "enabled, no longer eligible"
	}
	return strings.ReplaceAll(string(s), "_", " ")
}

func firstViolation(d contract.Decision) string {
	if len(d.Violations) == 0 {
		return ""
	}
	v := d.Violations[0]
	s := ": " + v.Check
	if v.Message != "" {
		s += ": " + v.Message
	}
	return s
}

func checks(fs []contract.Finding) string {
	var cs []string
	for _, f := range fs {
		cs = append(cs, f.Check)
	}
	return strings.Join(cs, ", ")
}

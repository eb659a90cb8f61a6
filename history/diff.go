package history

import (
	"slices"
	"sort"
	"strings"

	"github.com/factorgate/factorgate/contract"
)

// The kinds of drift [Event].
const (
	// EventEnteredEnabledIneligible: a host has 2FA on but no longer
	// qualifies (its status became enabled_ineligible), the finding an audit
	// exists for. A host first seen in that status counts too.
	EventEnteredEnabledIneligible = "entered_enabled_ineligible"
	// EventFellFromEligible: a host that qualified (eligible or enabled) no
	// longer does: it became ineligible or unreachable. Unknown is never
	// eligible, so a host that stopped answering has fallen too.
	EventFellFromEligible = "fell_from_eligible"
	// EventDisappeared: a host that was eligible, enabled or
	// enabled_ineligible in the older run is not in the newer one at all:
	// whatever its state now, nobody looked. Its To is empty.
	EventDisappeared = "disappeared"
)

// EventKinds are the kinds of drift [Event], in the order of this list.
var EventKinds = []string{EventEnteredEnabledIneligible, EventFellFromEligible, EventDisappeared}

// DriftSchema is the schema tag of a [Drift] in JSON.
const DriftSchema = "factorgate/drift/v1"

// Drift is what changed between two runs.
type Drift struct {
	Schema string `json:"schema"`
	From   RunID  `json:"from"`
	To     RunID  `json:"to"`
	// Events are the changes an operator is alerted on, by host.
	Events []Event `json:"events"`
	// Changed are the hosts, in both runs, whose status changed.
	Changed []StatusChange `json:"changed"`
	// Appeared are violations a host in both runs has now and had not;
	// Fixed are those it had and has no more; Waived are those it had and
	// that a waiver now covers; ChangedViolations are those it has in both
	// runs with another message. A violation is its host and its check:
	// the same check failing for another reason is changed, neither fixed
	// nor appeared. A host unreachable in the newer run has nothing fixed
	// or waived: nothing is known of it.
	Appeared          []HostFinding   `json:"appeared"`
	Fixed             []HostFinding   `json:"fixed"`
	Waived            []HostFinding   `json:"waived"`
	ChangedViolations []FindingChange `json:"changed_violations"`
	// Added are hosts only in the newer run, Removed only in the older.
	Added   []HostStatus `json:"added"`
	Removed []HostStatus `json:"removed"`
}

// Event is one drift event.
type Event struct {
	Kind string `json:"kind"`
	Host string `json:"host"`
	// From is the host's status in the older run, empty for a new host.
	From contract.Status `json:"from"`
	// To is the host's status in the newer run, empty for a host that
	// disappeared.
	To contract.Status `json:"to"`
	// Violations are the host's violations in the newer run: why it fell.
	Violations []contract.Finding `json:"violations"`
}

// StatusChange is a host whose status changed.
type StatusChange struct {
	Host string          `json:"host"`
	From contract.Status `json:"from"`
	To   contract.Status `json:"to"`
}

// HostFinding is one violation of one host.
type HostFinding struct {
	Host string `json:"host"`
	contract.Finding
}

// FindingChange is a check a host fails in both runs, for another reason:
// From is the violation in the older run, To in the newer. When a check
// gave a host several violations, their messages are joined with "; ".
type FindingChange struct {
	Host  string           `json:"host"`
	Check string           `json:"check"`
	From  contract.Finding `json:"from"`
	To    contract.Finding `json:"to"`
}

// HostStatus is a host and its status.
type HostStatus struct {
	Host   string          `json:"host"`
	Status contract.Status `json:"status"`
}

// Empty reports whether nothing changed.
func (d *Drift) Empty() bool {
	return len(d.Events)+len(d.Changed)+len(d.Appeared)+len(d.Fixed)+len(d.Waived)+len(d.ChangedViolations)+len(d.Added)+len(d.Removed) == 0
}

// Diff returns the drift from run a to run b. Both must carry their reports
// (as [Store.GetRun] returns them). Every list is sorted by host, then
// check.
func Diff(a, b *Run) Drift {
	d := Drift{Schema: DriftSchema, From: a.ID, To: b.ID, Events: []Event{}, Changed: []StatusChange{}, Appeared: []HostFinding{},
		Fixed: []HostFinding{}, Waived: []HostFinding{}, ChangedViolations: []FindingChange{}, Added: []HostStatus{}, Removed: []HostStatus{}}
	old := decisionsOf(a)
	cur := decisionsOf(b)
	for _, nd := range sortedHosts(cur) {
		n := cur[nd]
		o, ok := old[nd]
		if !ok {
			d.Added = append(d.Added, HostStatus{Host: nd, Status: n.Status})
			if n.Status == contract.StatusEnabledIneligible {
				d.Events = append(d.Events, Event{Kind: EventEnteredEnabledIneligible, Host: nd, To: n.Status, Violations: nonNil(n.Violations)})
			}
			continue
		}
		if o.Status != n.Status {
			d.Changed = append(d.Changed, StatusChange{Host: nd, From: o.Status, To: n.Status})
			if kind := eventKind(o.Status, n.Status); kind != "" {
				d.Events = append(d.Events, Event{Kind: kind, Host: nd, From: o.Status, To: n.Status, Violations: nonNil(n.Violations)})
			}
		}
		was := byCheck(o.Violations)
		is := byCheck(n.Violations)
		for _, k := range sortedKeys(is) {
			old, ok := was[k]
			switch {
			case !ok:
				d.Appeared = append(d.Appeared, HostFinding{Host: nd, Finding: is[k]})
			case old.Message != is[k].Message:
				d.ChangedViolations = append(d.ChangedViolations, FindingChange{Host: nd, Check: k, From: old, To: is[k]})
			}
		}
		if n.Status == contract.StatusUnreachable {
			// Its violations went unchecked: none is known fixed.
			continue
		}
		waived := byCheck(n.Waived)
		for _, k := range sortedKeys(was) {
			if _, ok := is[k]; ok {
				continue
			}
			if w, ok := waived[k]; ok {
				d.Waived = append(d.Waived, HostFinding{Host: nd, Finding: w})
			} else {
				d.Fixed = append(d.Fixed, HostFinding{Host: nd, Finding: was[k]})
			}
		}
	}
	for _, h := range sortedHosts(old) {
		if _, ok := cur[h]; ok {
			continue
		}
		st := old[h].Status
		d.Removed = append(d.Removed, HostStatus{Host: h, Status: st})
		if st == contract.StatusEligible || st == contract.StatusEnabled || st == contract.StatusEnabledIneligible {
			d.Events = append(d.Events, Event{Kind: EventDisappeared, Host: h, From: st, Violations: []contract.Finding{}})
		}
	}
	sort.SliceStable(d.Events, func(i, j int) bool { return d.Events[i].Host < d.Events[j].Host })
	return d
}

// eventKind is the drift event of a status change, or "".
func eventKind(from, to contract.Status) string {
	switch {
	case to == contract.StatusEnabledIneligible:
		return EventEnteredEnabledIneligible
	case from.Passes() && !to.Passes():
		return EventFellFromEligible
	}
	return ""
}

func decisionsOf(r *Run) map[string]contract.Decision {
	m := map[string]contract.Decision{}
	if r != nil && r.Report != nil {
		for _, d := range r.Report.Decisions {
			m[d.Host] = d
		}
	}
	return m
}

// byCheck returns the findings by check: a violation is its host and its
// check. Several findings of one check become one, their messages sorted
// and joined with "; ".
func byCheck(fs []contract.Finding) map[string]contract.Finding {
	m := make(map[string]contract.Finding, len(fs))
	msgs := map[string][]string{}
	for _, f := range fs {
		if _, ok := m[f.Check]; !ok {
			m[f.Check] = f
		}
		if !slices.Contains(msgs[f.Check], f.Message) {
			msgs[f.Check] = append(msgs[f.Check], f.Message)
		}
	}
	for c, ms := range msgs {
		if len(ms) > 1 {
			sort.Strings(ms)
			f := m[c]
			f.Message = strings.Join(ms, "; ")
			m[c] = f
		}
	}
	return m
}

func sortedHosts(m map[string]contract.Decision) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func sortedKeys(m map[string]contract.Finding) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func nonNil(fs []contract.Finding) []contract.Finding {
	if fs == nil {
		return []contract.Finding{}
	}
	return fs
}

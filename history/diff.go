package history

import (
	"sort"

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
)

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
	// that a waiver now covers.
	Appeared []HostFinding `json:"appeared"`
	Fixed    []HostFinding `json:"fixed"`
	Waived   []HostFinding `json:"waived"`
	// Added are hosts only in the newer run, Removed only in the older.
	Added   []HostStatus `json:"added"`
	Removed []HostStatus `json:"removed"`
}

// Event is one drift event.
type Event struct {
	Kind string `json:"kind"`
	Host string `json:"host"`
	// From is the host's status in the older run, empty for a new host.
	From string `json:"from"`
	To   string `json:"to"`
	// Violations are the host's violations in the newer run: why it fell.
	Violations []contract.Finding `json:"violations"`
}

// StatusChange is a host whose status changed.
type StatusChange struct {
	Host string `json:"host"`
	From string `json:"from"`
	To   string `json:"to"`
}

// HostFinding is one violation of one host.
type HostFinding struct {
	Host string `json:"host"`
	contract.Finding
}

// HostStatus is a host and its status.
type HostStatus struct {
	Host   string `json:"host"`
	Status string `json:"status"`
}

// Empty reports whether nothing changed.
func (d *Drift) Empty() bool {
	return len(d.Events)+len(d.Changed)+len(d.Appeared)+len(d.Fixed)+len(d.Waived)+len(d.Added)+len(d.Removed) == 0
}

// Diff returns the drift from run a to run b. Both must carry their reports
// (as [Store.GetRun] returns them). Every list is sorted by host, then check.
func Diff(a, b *Run) Drift {
	d := Drift{Schema: DriftSchema, From: a.ID, To: b.ID, Events: []Event{}, Changed: []StatusChange{}, Appeared: []HostFinding{},
		Fixed: []HostFinding{}, Waived: []HostFinding{}, Added: []HostStatus{}, Removed: []HostStatus{}}
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
		waived := byCheck(n.Waived)
		for _, c := range sortedKeys(is) {
			if _, ok := was[c]; !ok {
				d.Appeared = append(d.Appeared, HostFinding{Host: nd, Finding: is[c]})
			}
		}
		for _, c := range sortedKeys(was) {
			if _, ok := is[c]; ok {
				continue
			}
			if w, ok := waived[c]; ok {
				d.Waived = append(d.Waived, HostFinding{Host: nd, Finding: w})
			} else {
				d.Fixed = append(d.Fixed, HostFinding{Host: nd, Finding: was[c]})
			}
		}
	}
	for _, h := range sortedHosts(old) {
		if _, ok := cur[h]; !ok {
			d.Removed = append(d.Removed, HostStatus{Host: h, Status: old[h].Status})
		}
	}
	return d
}

// eventKind is the drift event of a status change, or "".
func eventKind(from, to string) string {
	qualified := from == contract.StatusEligible || from == contract.StatusEnabled
	switch {
	case to == contract.StatusEnabledIneligible:
		return EventEnteredEnabledIneligible
	case qualified && to != contract.StatusEligible && to != contract.StatusEnabled:
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

func byCheck(fs []contract.Finding) map[string]contract.Finding {
	m := make(map[string]contract.Finding, len(fs))
	for _, f := range fs {
		m[f.Check] = f
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

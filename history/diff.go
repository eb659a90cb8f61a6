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
	// that a waiver now covers. A violation is its check and its message:
	// the same check failing for another reason appears. A host unreachable
	// in the newer run has nothing fixed or waived: nothing is known of it.
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
	// To is the host's status in the newer run, empty for a host that
	// disappeared.
	To string `json:"to"`
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
// (as [Store.GetRun] returns them). Every list is sorted by host, then
// check, then message.
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
		was := byFinding(o.Violations)
		is := byFinding(n.Violations)
		for _, k := range sortedKeys(is) {
			if _, ok := was[k]; !ok {
				d.Appeared = append(d.Appeared, HostFinding{Host: nd, Finding: is[k]})
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
			if w, ok := waived[k.check]; ok {
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

// findingKey is what makes a violation itself: its check and its message.
type findingKey struct{ check, message string }

func byFinding(fs []contract.Finding) map[findingKey]contract.Finding {
	m := make(map[findingKey]contract.Finding, len(fs))
	for _, f := range fs {
		m[findingKey{f.Check, f.Message}] = f
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

func sortedKeys(m map[findingKey]contract.Finding) []findingKey {
	ks := make([]findingKey, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool {
		if ks[i].check != ks[j].check {
			return ks[i].check < ks[j].check
		}
		return ks[i].message < ks[j].message
	})
	return ks
}

func nonNil(fs []contract.Finding) []contract.Finding {
	if fs == nil {
		return []contract.Finding{}
	}
	return fs
}

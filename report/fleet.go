package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"sort"
	"strings"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/termtext"
)

// fleet is what the formats for people (table, markdown, html) learn in a
// first pass over the decisions, before they write a line: the decisions
// themselves, spooled (in memory up to a limit, then in a temporary file,
// so a large fleet is never held whole in memory); the warnings that
// several hosts share, which they print once with the hosts rather than
// once per host; and the widths of the text that goes in their tables.
type fleet struct {
	decisions *spool
	// N counts the decisions, Waived the hosts with waived violations.
	N, Waived int
	// Shared are the warnings several hosts share: most hosts first.
	Shared []*sharedWarning
	shared map[findingKey]*sharedWarning
	// The widest status, host, transport and OS, in columns, cleaned.
	statusW, hostW, transportW, osW int
	// The largest number of violations, warnings and waived on one host.
	maxViolations, maxWarnings, maxWaived int
}

// findingKey is what makes two findings the same one.
type findingKey struct{ check, message, remediation, severity string }

func keyOf(f contract.Finding) findingKey {
	return findingKey{f.Check, f.Message, f.Remediation, f.Severity}
}

// sharedWarning is a warning and the hosts that have it, in host order.
type sharedWarning struct {
	contract.Finding
	Hosts []string
	// families counts the hosts by OS family ("" when unknown).
	families map[string]int
}

// HostsText is "16 Windows hosts", "3 Linux hosts" or "5 hosts": the
// number of hosts, named by their OS when they all have the same.
func (s *sharedWarning) HostsText() string {
	noun := "hosts"
	if len(s.families) == 1 {
		for fam := range s.families {
			if name := familyName(fam); name != "" {
				noun = name + " hosts"
			}
		}
	}
	return fmt.Sprintf("%d %s", len(s.Hosts), noun)
}

// familyName is an OS family as people write it, or "" for unknown ones.
func familyName(fam string) string {
	switch fam {
	case "linux":
		return "Linux"
	case "windows":
		return "Windows"
	}
	return ""
}

// readFleet makes the first pass over decisions; spoolLimit bytes of them
// are held in memory, the rest in a temporary file that [fleet.Close]
// removes. On an error of decisions, it returns that error.
func readFleet(decisions iter.Seq2[contract.Decision, error], spoolLimit int) (*fleet, error) {
	f := &fleet{decisions: &spool{limit: spoolLimit}, shared: map[findingKey]*sharedWarning{}}
	bw := bufio.NewWriter(f.decisions)
	enc := json.NewEncoder(bw)
	var all []*sharedWarning
	for d, err := range decisions {
		if err != nil {
			f.Close()
			return nil, err
		}
		if err := enc.Encode(d); err != nil {
			f.Close()
			return nil, fmt.Errorf("spool decisions: %w", err)
		}
		f.N++
		if len(d.Waived) > 0 {
			f.Waived++
		}
		f.statusW = max(f.statusW, termtext.Width(termtext.Clean(string(d.Status))))
		f.hostW = max(f.hostW, termtext.Width(termtext.Clean(d.Host)))
		f.transportW = max(f.transportW, termtext.Width(termtext.Clean(ptrText(d.Transport))))
		f.osW = max(f.osW, termtext.Width(termtext.Clean(ptrText(d.OS))))
		f.maxViolations = max(f.maxViolations, len(d.Violations))
		f.maxWarnings = max(f.maxWarnings, len(d.Warnings))
		f.maxWaived = max(f.maxWaived, len(d.Waived))
		seen := map[findingKey]bool{}
		for _, w := range d.Warnings {
			k := keyOf(w)
			if seen[k] {
				continue
			}
			seen[k] = true
			s := f.shared[k]
			if s == nil {
				s = &sharedWarning{Finding: w, families: map[string]int{}}
				f.shared[k] = s
				all = append(all, s)
			}
			s.Hosts = append(s.Hosts, d.Host)
			s.families[ptrText(d.OS)]++
		}
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return nil, fmt.Errorf("spool decisions: %w", err)
	}
	// A warning of one host stays with that host.
	for k, s := range f.shared {
		if len(s.Hosts) < 2 {
			delete(f.shared, k)
		}
	}
	for _, s := range all {
		if len(s.Hosts) >= 2 {
			f.Shared = append(f.Shared, s)
		}
	}
	sort.SliceStable(f.Shared, func(i, j int) bool {
		a, b := f.Shared[i], f.Shared[j]
		if len(a.Hosts) != len(b.Hosts) {
			return len(a.Hosts) > len(b.Hosts)
		}
		if a.Check != b.Check {
			return a.Check < b.Check
		}
		return a.Message < b.Message
	})
	return f, nil
}

// isShared reports whether w is one of the warnings several hosts share.
func (f *fleet) isShared(w contract.Finding) bool { return f.shared[keyOf(w)] != nil }

// ownWarnings are the warnings of d that no other host shares.
func (f *fleet) ownWarnings(d contract.Decision) []contract.Finding {
	var out []contract.Finding
	for _, w := range d.Warnings {
		if !f.isShared(w) {
			out = append(out, w)
		}
	}
	return out
}

// Each yields the decisions again, in their order.
func (f *fleet) Each() iter.Seq2[contract.Decision, error] {
	return func(yield func(contract.Decision, error) bool) {
		r, err := f.decisions.Reader()
		if err != nil {
			yield(contract.Decision{}, err)
			return
		}
		dec := json.NewDecoder(bufio.NewReader(r))
		for {
			var d contract.Decision
			if err := dec.Decode(&d); err == io.EOF {
				return
			} else if err != nil {
				yield(contract.Decision{}, fmt.Errorf("read spooled decisions: %w", err))
				return
			}
			if !yield(d, nil) {
				return
			}
		}
	}
}

// Close removes the spool's temporary file, if any.
func (f *fleet) Close() error { return f.decisions.Close() }

// hostList is hosts joined by ", ", each cleaned for one line.
func hostList(hosts []string, clean func(string) string) string {
	parts := make([]string, len(hosts))
	for i, h := range hosts {
		parts[i] = clean(h)
	}
	return strings.Join(parts, ", ")
}

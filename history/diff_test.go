package history

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/factorgate/factorgate/contract"
)

// runOf builds a run with a report from name=status:check,check pairs.
func runOf(id RunID, pairs ...string) *Run {
	_, ds := fleet(pairs...)
	return &Run{ID: id, Report: contract.NewReport(t0, sortedDecisions(ds))}
}

// summary writes a drift compactly, one list per line, for comparison.
func summary(d Drift) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d->%d\n", d.From, d.To)
	b.WriteString("events:")
	for _, e := range d.Events {
		fmt.Fprintf(&b, " %s(%s %s>%s", e.Kind, e.Host, e.From, e.To)
		for _, v := range e.Violations {
			b.WriteString(" " + v.Check)
		}
		b.WriteString(")")
	}
	b.WriteString("\nchanged:")
	for _, c := range d.Changed {
		fmt.Fprintf(&b, " %s:%s>%s", c.Host, c.From, c.To)
	}
	for _, l := range []struct {
		name string
		fs   []HostFinding
	}{{"appeared", d.Appeared}, {"fixed", d.Fixed}, {"waived", d.Waived}} {
		b.WriteString("\n" + l.name + ":")
		for _, f := range l.fs {
			fmt.Fprintf(&b, " %s/%s", f.Host, f.Check)
		}
	}
	if len(d.ChangedViolations) > 0 {
		b.WriteString("\nreworded:")
		for _, c := range d.ChangedViolations {
			fmt.Fprintf(&b, " %s/%s(%s>%s)", c.Host, c.Check, c.From.Message, c.To.Message)
		}
	}
	for _, l := range []struct {
		name string
		hs   []HostStatus
	}{{"added", d.Added}, {"removed", d.Removed}} {
		b.WriteString("\n" + l.name + ":")
		for _, h := range l.hs {
			fmt.Fprintf(&b, " %s=%s", h.Host, h.Status)
		}
	}
	return b.String()
}

func TestDiff(t *testing.T) {
	newReason := runOf(2, "a=ineligible:selinux")
	v := &newReason.Report.Decisions[0].Violations
	*v = append(*v, contract.Finding{Check: "selinux", Message: "SELinux is off in the boot line", Severity: "high"})
	newMessage := runOf(2, "a=ineligible:selinux", "b=enabled_ineligible:selinux")
	for i := range newMessage.Report.Decisions {
		newMessage.Report.Decisions[i].Violations[0].Message = "SELinux is off in the boot line"
	}
	twoReasons := runOf(1, "a=ineligible")
	twoReasons.Report.Decisions[0].Violations = newReason.Report.Decisions[0].Violations
	reordered := runOf(2, "a=ineligible")
	reordered.Report.Decisions[0].Violations = []contract.Finding{newReason.Report.Decisions[0].Violations[1], newReason.Report.Decisions[0].Violations[0]}
	waivedRun := runOf(2, "a=eligible")
	waivedRun.Report.Decisions[0].Waived = []contract.Finding{{Check: "selinux", Message: "waived"}}
	cases := []struct {
		name  string
		a, b  *Run
		want  string
		empty bool
	}{
		{
			name:  "nothing changed",
			a:     runOf(1, "a=eligible", "b=ineligible:selinux"),
			b:     runOf(2, "b=ineligible:selinux", "a=eligible"),
			want:  "1->2\nevents:\nchanged:\nappeared:\nfixed:\nwaived:\nadded:\nremoved:",
			empty: true,
		},
		{
			name: "eligible to enabled_ineligible is one event, the worse",
			a:    runOf(1, "a=eligible", "b=enabled"),
			b:    runOf(2, "a=enabled_ineligible:selinux", "b=enabled_ineligible:password_login,openssh_version"),
			want: "1->2\nevents: entered_enabled_ineligible(a eligible>enabled_ineligible selinux) entered_enabled_ineligible(b enabled>enabled_ineligible password_login openssh_version)\n" +
				"changed: a:eligible>enabled_ineligible b:enabled>enabled_ineligible\n" +
				"appeared: a/selinux b/openssh_version b/password_login\nfixed:\nwaived:\nadded:\nremoved:",
		},
		{
			name: "falls from eligible, to ineligible and to unreachable",
			a:    runOf(1, "a=eligible", "b=enabled", "c=eligible"),
			b:    runOf(2, "a=ineligible:selinux", "b=unreachable:reachable", "c=enabled"),
			want: "1->2\nevents: fell_from_eligible(a eligible>ineligible selinux) fell_from_eligible(b enabled>unreachable reachable)\n" +
				"changed: a:eligible>ineligible b:enabled>unreachable c:eligible>enabled\n" +
				"appeared: a/selinux b/reachable\nfixed:\nwaived:\nadded:\nremoved:",
		},
		{
			name: "getting better is no event",
			a:    runOf(1, "a=ineligible:selinux,rdp", "b=enabled_ineligible:selinux", "c=unreachable:reachable"),
			b:    runOf(2, "a=ineligible:rdp", "b=enabled", "c=eligible"),
			want: "1->2\nevents:\nchanged: b:enabled_ineligible>enabled c:unreachable>eligible\n" +
				"appeared:\nfixed: a/selinux b/selinux c/reachable\nwaived:\nadded:\nremoved:",
		},
		{
			name: "ineligible host stays ineligible for another reason",
			a:    runOf(1, "a=ineligible:selinux"),
			b:    runOf(2, "a=ineligible:password_login"),
			want: "1->2\nevents:\nchanged:\nappeared: a/password_login\nfixed: a/selinux\nwaived:\nadded:\nremoved:",
		},
		{
			name: "hosts added and removed; a new host already enabled_ineligible is an event",
			a:    runOf(1, "a=eligible", "gone=ineligible:selinux"),
			b:    runOf(2, "a=eligible", "new=eligible", "bad=enabled_ineligible:selinux"),
			want: "1->2\nevents: entered_enabled_ineligible(bad >enabled_ineligible selinux)\nchanged:\n" +
				"appeared:\nfixed:\nwaived:\nadded: bad=enabled_ineligible new=eligible\nremoved: gone=ineligible",
		},
		{
			name: "a violation a waiver now covers is waived, not fixed",
			a:    runOf(1, "a=ineligible:selinux"),
			b:    waivedRun,
			want: "1->2\nevents:\nchanged: a:ineligible>eligible\nappeared:\nfixed:\nwaived: a/selinux\nadded:\nremoved:",
		},
		{
			name: "the same check failing with another message is changed, not fixed and appeared",
			a:    runOf(1, "a=ineligible:selinux,rdp", "b=enabled_ineligible:selinux"),
			b:    newMessage,
			want: "1->2\nevents:\nchanged:\nappeared:\nfixed: a/rdp\nwaived:\n" +
				"reworded: a/selinux(selinux fails>SELinux is off in the boot line) b/selinux(selinux fails>SELinux is off in the boot line)\nadded:\nremoved:",
		},
		{
			name: "a check that gives a second message is changed",
			a:    runOf(1, "a=ineligible:selinux"),
			b:    newReason,
			want: "1->2\nevents:\nchanged:\nappeared:\nfixed:\nwaived:\nreworded: a/selinux(selinux fails>SELinux is off in the boot line; selinux fails)\nadded:\nremoved:",
		},
		{
			name:  "the same messages in another order are no change",
			a:     twoReasons,
			b:     reordered,
			want:  "1->2\nevents:\nchanged:\nappeared:\nfixed:\nwaived:\nadded:\nremoved:",
			empty: true,
		},
		{
			name: "a host that became unreachable has nothing fixed",
			a:    runOf(1, "a=ineligible:selinux,rdp", "b=enabled_ineligible:selinux"),
			b:    runOf(2, "a=unreachable:reachable", "b=unreachable:reachable"),
			want: "1->2\nevents:\nchanged: a:ineligible>unreachable b:enabled_ineligible>unreachable\n" +
				"appeared: a/reachable b/reachable\nfixed:\nwaived:\nadded:\nremoved:",
		},
		{
			name: "a host that was eligible, enabled or enabled_ineligible and is gone disappeared",
			a:    runOf(1, "a=eligible", "b=enabled", "c=enabled_ineligible:selinux", "d=ineligible:selinux", "e=unreachable:reachable", "f=eligible"),
			b:    runOf(2, "f=ineligible:selinux", "new=eligible"),
			want: "1->2\nevents: disappeared(a eligible>) disappeared(b enabled>) disappeared(c enabled_ineligible>) fell_from_eligible(f eligible>ineligible selinux)\n" +
				"changed: f:eligible>ineligible\nappeared: f/selinux\nfixed:\nwaived:\nadded: new=eligible\n" +
				"removed: a=eligible b=enabled c=enabled_ineligible d=ineligible e=unreachable",
		},
		{
			name: "from an empty run",
			a:    &Run{ID: 1},
			b:    runOf(2, "a=eligible"),
			want: "1->2\nevents:\nchanged:\nappeared:\nfixed:\nwaived:\nadded: a=eligible\nremoved:",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := Diff(c.a, c.b)
			if got := summary(d); got != c.want {
				t.Errorf("Diff:\n got %s\nwant %s", got, c.want)
			}
			if d.Empty() != c.empty {
				t.Errorf("Empty() = %v, want %v", d.Empty(), c.empty)
			}
		})
	}
}

// ExampleDiff records two audits of a small fleet and shows the drift
// between them.
func ExampleDiff() {
	dir, _ := os.MkdirTemp("", "history-example-")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(dir, "history.db"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	decide := func(status contract.Status, checks ...string) contract.Decision {
		d := contract.Decision{Host: "web-01", Status: status}
		for _, c := range checks {
			d.Violations = append(d.Violations, contract.Finding{Check: c})
		}
		return d
	}
	first, _ := s.Record(ctx, Meta{Inventory: "fleet.yaml"}, Result{Decisions: []contract.Decision{decide("enabled")}})
	second, _ := s.Record(ctx, Meta{Inventory: "fleet.yaml"}, Result{Decisions: []contract.Decision{decide("enabled_ineligible", "selinux")}})

	a, _ := s.GetRun(ctx, first)
	b, _ := s.GetRun(ctx, second)
	for _, e := range Diff(a, b).Events {
		fmt.Printf("run %d: %s %s (%s -> %s) because of %s\n", b.ID, e.Host, e.Kind, e.From, e.To, e.Violations[0].Check)
	}
	// Output:
	// run 2: web-01 entered_enabled_ineligible (enabled -> enabled_ineligible) because of selinux
}

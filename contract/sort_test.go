package contract

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestDecisionSorter(t *testing.T) {
	for _, tc := range []struct {
		name     string
		n        int
		memory   int
		wantRuns bool
	}{
		{"empty", 0, 0, false},
		{"in memory", 500, 0, false},
		{"spilled", 3000, 16 << 10, true},
		{"one per run", 40, 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := NewDecisionSorter(dir, tc.memory)
			defer s.Close()
			r := rand.New(rand.NewPCG(1, 2))
			var want []Decision
			for i := range tc.n {
				// Some hosts twice, to check ties keep the order of Add.
				host := fmt.Sprintf("host-%05d", r.IntN(tc.n))
				d := Decision{
					Host: host, Status: Statuses[i%len(Statuses)], OS: Ptr("linux"),
					Violations: []Finding{{Check: "selinux", Message: fmt.Sprintf("n%d", i), Severity: "high"}},
					Warnings:   []Finding{}, Waived: []Finding{},
					Labels: map[string]string{"i": fmt.Sprint(i)},
				}
				want = append(want, d)
				if err := s.Add(d); err != nil {
					t.Fatal(err)
				}
			}
			slices.SortStableFunc(want, func(a, b Decision) int { return strings.Compare(a.Host, b.Host) })
			if got := len(s.runs) > 0; got != tc.wantRuns {
				t.Errorf("spilled = %v, want %v (%d runs)", got, tc.wantRuns, len(s.runs))
			}
			var got []Decision
			for d, err := range s.Sorted() {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, d)
			}
			if len(got) != len(want) {
				t.Fatalf("got %d decisions, want %d", len(got), len(want))
			}
			for i := range want {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Fatalf("decision %d:\n got %+v\nwant %+v", i, got[i], want[i])
				}
			}
			sum := s.Summary()
			total := 0
			for _, st := range Statuses {
				if _, ok := sum[st]; !ok {
					t.Errorf("summary lacks %s", st)
				}
				total += sum[st]
			}
			if total != tc.n || s.Len() != tc.n {
				t.Errorf("summary total %d, Len %d, want %d", total, s.Len(), tc.n)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			left, _ := filepath.Glob(filepath.Join(dir, "*"))
			if len(left) != 0 {
				t.Errorf("temporary files left: %v", left)
			}
		})
	}
}

func TestDecisionSorterStopEarly(t *testing.T) {
	s := NewDecisionSorter(t.TempDir(), 1)
	defer s.Close()
	for _, h := range []string{"c", "a", "b"} {
		if err := s.Add(Decision{Host: h, Status: StatusEligible}); err != nil {
			t.Fatal(err)
		}
	}
	for d, err := range s.Sorted() {
		if err != nil || d.Host != "a" {
			t.Fatalf("first = %q, %v", d.Host, err)
		}
		break
	}
	for _, err := range s.Sorted() {
		if err == nil || !strings.Contains(err.Error(), "twice") {
			t.Errorf("second Sorted: err = %v", err)
		}
	}
	if err := s.Add(Decision{Host: "d"}); err == nil {
		t.Error("Add after Sorted succeeded")
	}
}

func TestDecisionSorterBadDir(t *testing.T) {
	s := NewDecisionSorter(filepath.Join(t.TempDir(), "missing"), 1)
	defer s.Close()
	err := s.Add(Decision{Host: "a"})
	if err == nil || !strings.HasPrefix(err.Error(), "sort decisions: ") || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("err = %v", err)
	}
}

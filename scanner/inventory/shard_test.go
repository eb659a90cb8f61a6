package inventory

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"testing/quick"
)

func TestParseShard(t *testing.T) {
	good := map[string]Shard{"": {}, "1/1": {1, 1}, "2/4": {2, 4}, "4/4": {4, 4}, "10000/10000": {10000, 10000}}
	for in, want := range good {
		got, err := ParseShard(in)
		if err != nil || got != want {
			t.Errorf("ParseShard(%q) = %v, %v; want %v", in, got, err, want)
		}
		if got.String() != in {
			t.Errorf("%v.String() = %q, want %q", got, got.String(), in)
		}
	}
	for _, in := range []string{"0/4", "5/4", "1/0", "-1/4", "1/-4", "2", "2/", "/4", "a/b", "1/4/2", " 1/4", "1/10001", "1.5/4"} {
		if s, err := ParseShard(in); !errors.Is(err, ErrBadShard) {
			t.Errorf("ParseShard(%q) = %v, %v; want ErrBadShard", in, s, err)
		}
	}
}

func fleetNames(n int, r *rand.Rand) []string {
	out := make([]string, n)
	for i := range out {
		switch r.IntN(3) {
		case 0:
			out[i] = fmt.Sprintf("web-%03d", i)
		case 1:
			out[i] = fmt.Sprintf("db%d.prod.example.com", i)
		default:
			out[i] = fmt.Sprintf("10.%d.%d.%d", r.IntN(256), r.IntN(256), i%256)
		}
	}
	return out
}

// The N shards of any fleet are disjoint and cover it: every host is in
// exactly one of Filter(1/N) .. Filter(N/N).
func TestShardsDisjointAndCovering(t *testing.T) {
	prop := func(seed uint64, nRaw uint8, sizeRaw uint16) bool {
		r := rand.New(rand.NewPCG(seed, 7))
		n := int(nRaw)%40 + 1
		// An inventory's names are unique: drop the repeats the
		// generator may draw.
		var names []string
		seen := map[string]bool{}
		for _, name := range fleetNames(int(sizeRaw)%600, r) {
			if !seen[name] {
				seen[name] = true
				names = append(names, name)
			}
		}
		var hosts []Host
		for _, name := range names {
			hosts = append(hosts, Host{Name: name})
		}
		count := map[string]int{}
		for k := 1; k <= n; k++ {
			for _, h := range (Shard{K: k, N: n}).Filter(hosts) {
				count[h.Name]++
			}
		}
		for _, name := range names {
			if count[name] != 1 {
				t.Logf("n=%d: %s is in %d shards", n, name, count[name])
				return false
			}
		}
		return len(count) == len(names)
	}
	if err := quick.Check(prop, &quick.Config{MaxCount: 200}); err != nil {
		t.Error(err)
	}
}

// A host's shard is its name's alone: adding hosts to the fleet moves none.
func TestShardOfIgnoresTheRestOfTheFleet(t *testing.T) {
	small := []Host{{Name: "web-01"}, {Name: "web-02"}, {Name: "db-01"}}
	big := append([]Host{{Name: "new-01"}, {Name: "new-02"}}, small...)
	for k := 1; k <= 3; k++ {
		s := Shard{K: k, N: 3}
		in := map[string]bool{}
		for _, h := range s.Filter(big) {
			in[h.Name] = true
		}
		for _, h := range small {
			if s.Has(h.Name) != in[h.Name] {
				t.Errorf("%s: in shard %v of the small fleet is %v, of the big one %v", h.Name, s, s.Has(h.Name), in[h.Name])
			}
		}
	}
	// Pinned values: a change of hash would move hosts between the shards
	// of runners that do not run the same version.
	pinned := []struct {
		name string
		n, k int
	}{{"web-01", 4, 1}, {"web-01", 7, 7}, {"web-02", 4, 1}, {"db-01", 4, 4}, {"win-01", 7, 3}, {"10.0.0.5", 4, 2}}
	for _, p := range pinned {
		if got := ShardOf(p.name, p.n); got != p.k {
			t.Errorf("ShardOf(%q, %d) = %d, want %d", p.name, p.n, got, p.k)
		}
	}
}

package inventory

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"testing/quick"
)

func TestParseShard(t *testing.T) {
	good := map[string]Shard{"": {}, "1/1": {1, 1}, "2/4": {2, 4}, "4/4": {4, 4}, "65536/65536": {65536, 65536}}
	for in, want := range good {
		got, err := ParseShard(in)
		if err != nil || got != want {
			t.Errorf("ParseShard(%q) = %v, %v; want %v", in, got, err, want)
		}
		if got.String() != in {
			t.Errorf("%v.String() = %q, want %q", got, got.String(), in)
		}
	}
	for _, in := range []string{"0/4", "5/4", "1/0", "-1/4", "1/-4", "2", "2/", "/4", "a/b", "1/4/2", " 1/4", "1/65537", "1.5/4"} {
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
		names := fleetNames(int(sizeRaw)%600, r)
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
		return len(count) == len(uniq(names))
	}
	if err := quick.Check(prop, &quick.Config{MaxCount: 200}); err != nil {
		t.Error(err)
	}
}

func uniq(s []string) map[string]bool {
	m := map[string]bool{}
	for _, x := range s {
		m[x] = true
	}
	return m
}

// Growing N to N+1 moves a host only into the new shard, and about 1 in
// N+1 of them; the shards stay balanced.
func TestShardsMoveFewWhenNGrows(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	names := fleetNames(20000, r)
	for n := 1; n <= 16; n++ {
		moved := 0
		size := make([]int, n+2)
		for _, name := range names {
			a, b := ShardOf(name, n), ShardOf(name, n+1)
			if a < 1 || a > n || b < 1 || b > n+1 {
				t.Fatalf("ShardOf(%q) = %d of %d, %d of %d: out of range", name, a, n, b, n+1)
			}
			size[b]++
			if a != b {
				moved++
				if b != n+1 {
					t.Fatalf("%s moved from shard %d to %d when N grew to %d: only moves to the new shard are allowed", name, a, b, n+1)
				}
			}
		}
		want := float64(len(names)) / float64(n+1)
		if f := float64(moved); f < want*0.9 || f > want*1.1 {
			t.Errorf("N %d→%d moved %d of %d hosts, want about %.0f", n, n+1, moved, len(names), want)
		}
		for k := 1; k <= n+1; k++ {
			if f := float64(size[k]); f < want*0.9 || f > want*1.1 {
				t.Errorf("shard %d/%d holds %d hosts, want about %.0f", k, n+1, size[k], want)
			}
		}
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

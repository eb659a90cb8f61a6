package inventory

import (
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

// Shard is one of N parts of a fleet, numbered K = 1..N, as `--shard K/N`
// names it. A host belongs to exactly one shard of N, chosen by a hash of
// its name alone (see [ShardOf]): the N shards of a fleet are disjoint and
// together cover it, whatever else is in the inventory and in whatever
// order; a host added to the fleet moves no other host, and growing N to N+1
// moves only the hosts that land in the new shard (about 1 in N+1).
type Shard struct {
	K, N int
}

// MaxShards is the largest N a [Shard] may have.
const MaxShards = 10000

// ErrBadShard is returned (wrapped) by [ParseShard] for what is not K/N
// with 1 <= K <= N <= [MaxShards].
var ErrBadShard = errors.New("want K/N with 1 <= K <= N, such as 2/4")

// ParseShard reads "K/N". The empty string is the whole fleet (the zero
// Shard).
func ParseShard(s string) (Shard, error) {
	if s == "" {
		return Shard{}, nil
	}
	ks, ns, ok := strings.Cut(s, "/")
	k, errK := strconv.Atoi(ks)
	n, errN := strconv.Atoi(ns)
	switch {
	case !ok || errK != nil || errN != nil:
		return Shard{}, fmt.Errorf("shard %q: %w", s, ErrBadShard)
	case n < 1 || n > MaxShards:
		return Shard{}, fmt.Errorf("shard %q: N must be 1 to %d: %w", s, MaxShards, ErrBadShard)
	case k < 1 || k > n:
		return Shard{}, fmt.Errorf("shard %q: K must be 1 to N (%d): %w", s, n, ErrBadShard)
	}
	return Shard{K: k, N: n}, nil
}

// IsZero reports whether s is the whole fleet (no --shard).
func (s Shard) IsZero() bool { return s.N == 0 }

// String is "K/N", or "" for the whole fleet.
func (s Shard) String() string {
	if s.IsZero() {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.K, s.N)
}

// Has reports whether the host named name belongs to s. Every host belongs
// to the zero Shard.
func (s Shard) Has(name string) bool {
	return s.IsZero() || ShardOf(name, s.N) == s.K
}

// Filter returns the hosts of s, in their order.
func (s Shard) Filter(hosts []Host) []Host {
	if s.IsZero() {
		return hosts
	}
	var out []Host
	for _, h := range hosts {
		if s.Has(h.Name) {
			out = append(out, h)
		}
	}
	return out
}

// ShardOf returns the shard (1..n) of the host named name: jump consistent
// hashing (Lamping and Veach, 2014) of the 64-bit FNV-1a hash of the name.
// It depends on the name and n alone, so every runner of a sharded audit
// agrees on it without talking to the others.
func ShardOf(name string, n int) int {
	if n <= 1 {
		return 1
	}
	h := fnv.New64a()
	h.Write([]byte(name))
	key := mix64(h.Sum64())
	var b, j int64 = -1, 0
	for j < int64(n) {
		b = j
		key = key*2862933555777941757 + 1
		j = int64(float64(b+1) * (float64(int64(1)<<31) / float64((key>>33)+1)))
	}
	return int(b) + 1
}

// mix64 spreads FNV's bits (its high bits vary little between names that
// differ in the last character), as SplitMix64's finalizer does.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

package policies

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/factorgate/factorgate/contract"
)

// identityVariants are hosts of the same configuration as base with an
// unusual identity: labels that are not strings, empty or odd addresses,
// HSS host IDs in either place, duplicate keys. Judged after base, they
// take its verdict from the cache.
func identityVariants(t *testing.T, base []byte) [][]byte {
	t.Helper()
	var f map[string]any
	if err := json.Unmarshal(base, &f); err != nil {
		t.Fatal(err)
	}
	host := f["host"].(map[string]any)
	var out [][]byte
	add := func(name string, change func(h, f map[string]any)) {
		c := map[string]any{}
		for k, v := range f {
			c[k] = v
		}
		h := map[string]any{}
		for k, v := range host {
			h[k] = v
		}
		if hss, ok := f["hss"].(map[string]any); ok {
			cp := map[string]any{}
			for k, v := range hss {
				cp[k] = v
			}
			c["hss"] = cp
		}
		h["name"] = name
		c["host"] = h
		change(h, c)
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	add("v-labels", func(h, _ map[string]any) {
		h["labels"] = map[string]any{"n": 1.5, "b": true, "o": map[string]any{"x": []any{1, "y"}}, "z": nil, "s": "é\u202e"}
	})
	add("v-labels-empty", func(h, _ map[string]any) { h["labels"] = map[string]any{} })
	add("v-labels-null", func(h, _ map[string]any) { h["labels"] = nil })
	add("v-labels-array", func(h, _ map[string]any) { h["labels"] = []any{"a"} })
	add("v-no-labels", func(h, _ map[string]any) { delete(h, "labels") })
	add("v-address-empty", func(h, _ map[string]any) { h["address"] = "" })
	add("v-address-number", func(h, _ map[string]any) { h["address"] = 10 })
	add("v-no-address", func(h, _ map[string]any) { delete(h, "address") })
	add("v-host-hss-id", func(h, _ map[string]any) { h["hss_host_id"] = "from-inventory" })
	add("v-host-hss-id-empty", func(h, _ map[string]any) { h["hss_host_id"] = "" })
	add("v-host-hss-id-number", func(h, _ map[string]any) { h["hss_host_id"] = 7 })
	add("v-hss-id-empty", func(_, f map[string]any) {
		if hss, ok := f["hss"].(map[string]any); ok {
			hss["host_id"] = ""
		}
	})
	add("v-port", func(h, _ map[string]any) { h["port"] = 2222 })
	add("v-times", func(_, f map[string]any) { f["collected_at"] = "2030-01-01T00:00:00Z"; f["duration_ms"] = 1 })
	add("", func(_, _ map[string]any) {})
	out = append(out,
		// Duplicate keys: OPA keeps the last, so these are never cached.
		[]byte(strings.Replace(string(out[0]), `"host":{`, `"host":{"name":"v-dup-first",`, 1)),
		[]byte(strings.Replace(string(out[0]), `"host":{`, `"host":{"labels":{"env":"x"},`, 1)),
		[]byte(strings.Replace(string(base), `"labels":{`, `"labels":{"env":"dup",`, 1)),
		// No usable name: no decision, cached or not.
		[]byte(strings.Replace(string(out[0]), `"name":"v-labels"`, `"name":5`, 1)),
	)
	return out
}

// judgeAll decides every line, one by one, and returns each decision as
// JSON, or the error.
func judgeAll(t *testing.T, ev *Evaluator, lines [][]byte) []string {
	t.Helper()
	out := make([]string, len(lines))
	for i, l := range lines {
		d, err := ev.Decide(context.Background(), l)
		if err != nil {
			out[i] = "error: " + err.Error()
			continue
		}
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = string(b)
	}
	return out
}

// TestVerdictCacheExact judges generated fleets with and without the
// verdict cache, with the bundle alone, with waivers naming hosts and
// labels, and with user policies that read the host's identity, and checks
// that every decision is byte for byte the same, and that the cache was
// used when it may be.
func TestVerdictCacheExact(t *testing.T) {
	dir := t.TempDir()
	byName := writeFile(t, dir, "byname/p.rego", `package factorgate.acme.byname

violations contains sprintf("%s is on the old list", [input.host.name]) if endswith(input.host.name, "7")
`)
	typeOnly := writeFile(t, dir, "typeonly/p.rego", `package factorgate.acme.typeonly

warnings contains "no address" if not is_string(input.host.address)
`)
	byLabel := writeFile(t, dir, "bylabel/p.rego", `package factorgate.acme.bylabel

import input.host.labels

warnings contains sprintf("team %s", [labels.team]) if labels.env == "prod"
`)
	whole := writeFile(t, dir, "whole/p.rego", `package factorgate.acme.whole

warnings contains sprintf("%d fields", [count(h)]) if {
	h := input.host
}
`)
	decision := writeFile(t, dir, "decision/p.rego", `package factorgate.acme.decision

import data.factorgate.decision

warnings contains sprintf("HSS knows it as %v", [decision._hss_host_id])
`)
	clock := writeFile(t, dir, "clock/p.rego", `package factorgate.acme.clock

warnings contains "odd second" if time.now_ns() % 2 == 1
`)
	waivers := []map[string]any{
		{"host": "host-00000*", "check": "selinux", "justification": "lab", "expires": "2099-01-01"},
		{"selector": map[string]any{"env": "dev"}, "check": "password_login", "justification": "dev", "expires": "2099-01-01"},
		{"host": "", "check": "openssh_version", "justification": "all", "expires": "2099-01-01"},
		{"selector": map[string]any{"n": 1.5}, "check": "protection", "justification": "odd label", "expires": "2099-01-01"},
	}

	lines, err := fleetLines(2000)
	if err != nil {
		t.Fatal(err)
	}
	lines = append(lines, identityVariants(t, lines[0])...)
	for _, tc := range []struct {
		name     string
		opts     Options
		minHits  float64 // share of the hosts judged from the cache, at least
		maxHits  float64 // and at most
		uncached string
	}{
		{"bundle", Options{}, 0.75, 1, ""},
		// Waivers by host and label split configurations by the waivers
		// covering each host.
		{"waivers", Options{Waivers: waivers}, 0.5, 1, ""},
		{"waivers by label", Options{Waivers: waivers[1:]}, 0.5, 1, ""},
		// Only the variant of a host under its own name hits.
		{"policy reading the name", Options{PolicyDirs: []string{byName}}, 0, 0.001, ""},
		{"policy reading the address type", Options{PolicyDirs: []string{typeOnly}}, 0.75, 1, ""},
		// The labels read make part of the key: env and team.
		{"policy reading labels by import", Options{PolicyDirs: []string{byLabel}}, 0.2, 1, ""},
		{"policy reading the whole host", Options{PolicyDirs: []string{whole}}, 0, 0, ""},
		{"policy reading the clock", Options{PolicyDirs: []string{clock}}, 0, 0, "time.now_ns"},
		{"policy reading the decision", Options{PolicyDirs: []string{decision}}, 0, 0, "data.factorgate.decision"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			off := tc.opts
			off.CacheBytes = -1
			ev := newEval(t, tc.opts)
			got := judgeAll(t, ev, lines)
			want := got
			if tc.uncached != "time.now_ns" { // the clock differs from run to run
				want = judgeAll(t, newEval(t, off), lines)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("host %d with the cache:\n%s\nwithout:\n%s", i, got[i], want[i])
				}
			}
			hits, misses := ev.cacheStats()
			share := float64(hits) / float64(len(lines))
			if share < tc.minHits || share > tc.maxHits {
				t.Errorf("%d hits, %d misses over %d hosts: share %.2f, want %.2f to %.2f", hits, misses, len(lines), share, tc.minHits, tc.maxHits)
			}
			if !strings.Contains(ev.uncached, tc.uncached) || (tc.uncached == "") != (ev.uncached == "") {
				t.Errorf("uncached = %q, want %q", ev.uncached, tc.uncached)
			}
		})
	}
}

// TestVerdictCacheCopies checks that a caller changing a decision does
// not change the next one taken from the cache.
func TestVerdictCacheCopies(t *testing.T) {
	lines, err := fleetLines(200)
	if err != nil {
		t.Fatal(err)
	}
	ev := newEval(t, Options{})
	first, err := ev.Decide(context.Background(), lines[0])
	if err != nil || len(first.Violations)+len(first.Warnings) == 0 {
		t.Fatalf("%+v, %v", first, err)
	}
	want, _ := json.Marshal(first)
	for i := range first.Violations {
		first.Violations[i].Message = "changed"
	}
	for i := range first.Warnings {
		first.Warnings[i].Message = "changed"
	}
	*first.OS = "changed"
	again, err := ev.Decide(context.Background(), lines[0])
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := json.Marshal(again); !bytes.Equal(got, want) {
		t.Errorf("cached verdict changed by a caller:\n%s\nwant\n%s", got, want)
	}
	if hits, _ := ev.cacheStats(); hits != 1 {
		t.Errorf("%d hits, want 1", hits)
	}
}

// TestVerdictCacheBounded checks that the cache holds no more than its
// bytes, dropping the least recently used verdicts.
func TestVerdictCacheBounded(t *testing.T) {
	c := newVerdictCache(64 << 10)
	d := contract.Decision{Status: "ineligible", Violations: []contract.Finding{{Check: "x", Message: strings.Repeat("m", 200)}}}
	for i := range 10_000 {
		c.put(fmt.Appendf(nil, "key-%d", i), d)
		if c.size > c.max {
			t.Fatalf("after %d puts: %d bytes, max %d", i+1, c.size, c.max)
		}
	}
	if len(c.m) != c.ll.Len() || len(c.m) == 0 || len(c.m) > 200 {
		t.Errorf("%d entries, %d in the list", len(c.m), c.ll.Len())
	}
	if _, ok := c.get([]byte("key-9999")); !ok {
		t.Error("the latest verdict was dropped")
	}
	if _, ok := c.get([]byte("key-0")); ok {
		t.Error("the oldest verdict is still there")
	}
}

// TestVerdictCacheJudge judges a fleet in parallel with the cache and
// checks every decision against the one judged alone without it.
func TestVerdictCacheJudge(t *testing.T) {
	lines, err := fleetLines(1500)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	off := newEval(t, Options{CacheBytes: -1})
	for _, l := range lines {
		d, err := off.Decide(context.Background(), l)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(d)
		want[d.Host] = string(b)
	}
	ev := newEval(t, Options{Workers: 4})
	i := 0
	next := func() (*contract.Facts, []byte, error) {
		if i == len(lines) {
			return nil, nil, errEOF
		}
		i++
		return nil, lines[i-1], nil
	}
	n := 0
	err = ev.Judge(context.Background(), next, func(d contract.Decision) error {
		n++
		if b, _ := json.Marshal(d); string(b) != want[d.Host] {
			t.Errorf("%s judged in parallel with the cache:\n%s\nalone without it:\n%s", d.Host, b, want[d.Host])
		}
		return nil
	})
	if err != nil || n != len(lines) {
		t.Fatalf("judged %d of %d: %v", n, len(lines), err)
	}
	if hits, _ := ev.cacheStats(); hits == 0 {
		t.Error("no verdict came from the cache")
	}
}

// TestBundleLeavesIdentityOut checks that the bundle's checks read no
// host's identity beyond the type of hss.host_id: a check that does makes
// every host a configuration of its own, and judging a fleet slow again.
func TestBundleLeavesIdentityOut(t *testing.T) {
	ev := newEval(t, Options{})
	if ev.plan == nil {
		t.Fatalf("no verdict cache for the bundle: %s", ev.uncached)
	}
	for path, fr := range ev.plan.kinds {
		want := readNone
		if path == "hss.host_id" {
			want = readType // protection: is_string(input.hss[k])
		}
		if fr.kind > want {
			t.Errorf("a bundled check reads the host's %s (how: %d): each host then is a configuration of its own for the verdict cache; judge facts of the configuration instead", path, fr.kind)
		}
	}
}

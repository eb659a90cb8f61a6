// Package sshmatch matches names the way OpenSSH does in its configuration
// and known_hosts files: [Pattern] for one pattern with * and ?, and
// [PatternList] for a comma-separated list with negations.
package sshmatch

import "strings"

// Pattern is OpenSSH's match_pattern: * matches any run of
// characters, ? any one character. It backtracks only to the last *, so
// its time is bounded by len(s)*len(pattern) whatever the pattern.
func Pattern(s, pattern string) bool {
	si, pi := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(pattern) && (pattern[pi] == '?' || pattern[pi] == s[si]):
			si++
			pi++
		case pi < len(pattern) && pattern[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(pattern) && pattern[pi] == '*' {
		pi++
	}
	return pi == len(pattern)
}

// PatternList is OpenSSH's match_pattern_list: 1 when s matches a
// pattern of the comma-separated list and no negated one, -1 when it
// matches a negated one, 0 otherwise.
func PatternList(s, list string, lower bool) int {
	if lower {
		s, list = strings.ToLower(s), strings.ToLower(list)
	}
	got := 0
	for _, p := range strings.Split(list, ",") {
		neg := strings.HasPrefix(p, "!")
		if neg {
			p = p[1:]
		}
		if Pattern(s, p) {
			if neg {
				return -1
			}
			got = 1
		}
	}
	return got
}

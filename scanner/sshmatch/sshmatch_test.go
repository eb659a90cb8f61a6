package sshmatch

import (
	"strings"
	"testing"
)

func TestMatchPattern(t *testing.T) {
	tests := []struct {
		s, p string
		want bool
	}{
		{"", "", true}, {"a", "", false}, {"", "*", true}, {"abc", "a*c", true}, {"abc", "a?c", true},
		{"abc", "a?", false}, {"adm1", "adm*", true}, {"x.example.com", "*.example.com", true},
		{"example.com", "*.example.com", false}, {"aXbXc", "*b*c", true}, {"ab", "a**b", true}, {"abcd", "*c", false},
		{strings.Repeat("a", 200), strings.Repeat("*a", 60) + "b", false},
	}
	for _, tt := range tests {
		if got := Pattern(tt.s, tt.p); got != tt.want {
			t.Errorf("Pattern(%q, %q) = %v, want %v", tt.s, tt.p, got, tt.want)
		}
	}
}

func TestPatternKnownHostsNames(t *testing.T) {
	for _, tc := range []struct {
		p, s string
		want bool
	}{
		{"*", "", true}, {"*", "web", true}, {"web", "web", true}, {"web", "webx", false},
		{"w?b", "web", true}, {"*.example.com", "a.example.com", true}, {"*.example.com", "example.com", false},
		{"[web]:22*", "[web]:2222", true}, {"a*b*c", "aXbYc", true}, {"a*b*c", "aXbY", false},
		{strings.Repeat("*a", 30) + "b", strings.Repeat("a", 60), false},
	} {
		if got := Pattern(tc.s, tc.p); got != tc.want {
			t.Errorf("Pattern(%q, %q) = %v, want %v", tc.p, tc.s, got, tc.want)
		}
	}
}

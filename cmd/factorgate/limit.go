package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/factorgate/factorgate/scanner/inventory"
)

// hostLimit applies --limit to hosts read from a file (facts, decisions),
// with the inventory's meaning: a host is kept when any pattern matches
// its name, or KEY=GLOB one of its labels. As with an inventory, a pattern
// that matched no host is an error, told by [hostLimit.unmatched].
type hostLimit struct {
	patterns []string
	matched  []bool
}

// newHostLimit checks the patterns of --limit (repeatable or
// comma-separated); nil patterns keep every host.
func newHostLimit(values []string) (*hostLimit, error) {
	l := &hostLimit{}
	for _, v := range values {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p == "" {
				return nil, usageErrorf("--limit: empty pattern")
			}
			l.patterns = append(l.patterns, p)
		}
	}
	l.matched = make([]bool, len(l.patterns))
	// A bad glob is an error now, before any host is read.
	for _, p := range l.patterns {
		if _, err := l.match(p, "", nil); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// keep reports whether the host of that name and labels is selected.
func (l *hostLimit) keep(name string, labels map[string]string) (bool, error) {
	if len(l.patterns) == 0 {
		return true, nil
	}
	kept := false
	for i, p := range l.patterns {
		ok, err := l.match(p, name, labels)
		if err != nil {
			return false, err
		}
		if ok {
			l.matched[i], kept = true, true
		}
	}
	return kept, nil
}

// match matches one pattern through [inventory.Inventory.Select] on a
// one-host inventory, so that --limit means the same for an inventory, for
// facts and for decisions.
func (l *hostLimit) match(pattern, name string, labels map[string]string) (bool, error) {
	inv := &inventory.Inventory{Path: "-", Hosts: []inventory.Host{{Name: name, Labels: labels}}}
	_, err := inv.Select([]string{pattern})
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, inventory.ErrNoMatch):
		return false, nil
	}
	return false, usageErrorf("--%v", err)
}

// unmatched returns an error naming the first pattern that matched no host
// of source.
func (l *hostLimit) unmatched(source string) error {
	if l == nil {
		return nil
	}
	for i, p := range l.patterns {
		if !l.matched[i] {
			return fmt.Errorf("--limit %q matches no host in %s", p, source)
		}
	}
	return nil
}

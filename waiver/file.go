package waiver

import (
	"fmt"
	"os"
	"time"

	"github.com/factorgate/factorgate/termtext"
)

// File is a loaded waiver file: the entries in force, where each was
// written, and the warnings of loading it (expired entries).
type File struct {
	// Name is the file name used in errors and warnings.
	Name string
	// Entries are the entries in force, as [Load] returns them.
	Entries []map[string]any
	// Warnings are "FILE:LINE: ..." lines about entries that were dropped.
	Warnings []string
	lines    []position
}

// position is where an entry of Entries was written.
type position struct {
	entry int // the line of the list item
	check int // the line of its check field
}

// LoadFile is [Load] keeping where each entry was written, for
// [File.CheckKnown] and [Coverage].
func LoadFile(path string, now time.Time) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read waivers: %w", err)
	}
	return ParseFile(path, data, now)
}

// CheckKnown returns an error for the first entry in force whose check is
// not one of known (the check IDs the loaded policies define, see
// policies.KnownChecks): "FILE:LINE: check: no loaded policy defines
// check "selinx" (did you mean selinux?)". A waiver for a check nobody
// reports would waive nothing, silently.
func (f *File) CheckKnown(known []string) error {
	if len(f.Entries) == 0 {
		return nil
	}
	set := make(map[string]bool, len(known))
	for _, k := range known {
		set[k] = true
	}
	for i, e := range f.Entries {
		c, _ := e["check"].(string)
		if set[c] {
			continue
		}
		msg := fmt.Sprintf("%s:%d: check: no loaded policy defines check %q", f.Name, f.lines[i].check, c)
		if near := termtext.Nearest(c, known); near != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", near)
		}
		return fmt.Errorf("%s", msg)
	}
	return nil
}

// Coverage records which entries of a [File] cover some host of a run.
// It is not safe for concurrent use.
type Coverage struct {
	f   *File
	hit []bool
}

// Coverage starts recording which entries cover the hosts of a run.
func (f *File) Coverage() *Coverage {
	return &Coverage{f: f, hit: make([]bool, len(f.Entries))}
}

// Host records one host of the run, by name and labels. A nil Coverage
// records nothing.
func (c *Coverage) Host(name string, labels map[string]string) {
	if c == nil {
		return
	}
	for i, e := range c.f.Entries {
		if !c.hit[i] && Match(e, name, labels) {
			c.hit[i] = true
		}
	}
}

// Unmatched returns a warning "FILE:LINE: waiver for CHECK on TARGET
// matches no host of this run" for each entry that covered no recorded
// host: a misspelt host name or label that waives nothing. A nil
// Coverage has none.
func (c *Coverage) Unmatched() []string {
	if c == nil {
		return nil
	}
	var out []string
	for i, e := range c.f.Entries {
		if !c.hit[i] {
			out = append(out, fmt.Sprintf("%s:%d: waiver for %s on %s matches no host of this run",
				c.f.Name, c.f.lines[i].entry, e["check"], target(e)))
		}
	}
	return out
}

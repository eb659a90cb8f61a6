// Package report renders decisions for people and machines. Each format is
// one file and one [Renderer], found by name with [New].
//
// Renderers receive the summary first, then each decision in host order,
// and never hold a large fleet whole in memory. The formats for machines
// (json, jsonl, junit, csv, sarif) stream, one finding per host and line
// or element. The formats for people (table, markdown, html) read the
// decisions once into a spool (memory up to a limit, then a temporary
// file) before writing, to size their columns and to print a warning that
// many hosts share once, with its hosts; their text is cleaned of
// terminal escapes and controls, and table and markdown fit 80 columns.
package report

import (
	"fmt"
	"io"
	"iter"
	"sort"
	"strings"
	"time"

	"github.com/factorgate/factorgate/contract"
)

// Header is what a renderer knows before the first decision.
type Header struct {
	GeneratedAt time.Time
	Summary     map[contract.Status]int
	// Total is the number of decisions that will follow.
	Total      int
	NotScanned []contract.CloudHost
	// Title names the run, e.g. the inventory file. Reports show a path
	// in it by its file name (see [reportTitle]).
	Title string
}

// Renderer writes one report format.
type Renderer interface {
	Render(w io.Writer, h Header, decisions iter.Seq2[contract.Decision, error]) error
}

var registry = map[string]func() Renderer{}

// register adds a format; each renderer file calls it from init.
func register(name string, f func() Renderer) { registry[name] = f }

// Formats lists the known format names, sorted.
func Formats() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// New returns the renderer of format name.
func New(name string) (Renderer, error) {
	f, ok := registry[name]
	if !ok {
		return nil, fmt.Errorf("unknown format %q (want one of %s)", name, strings.Join(Formats(), ", "))
	}
	return f(), nil
}

// RenderReport renders a whole in-memory report in format name.
func RenderReport(w io.Writer, name string, r *contract.Report) error {
	rd, err := New(name)
	if err != nil {
		return err
	}
	return rd.Render(w, HeaderOf(r, ""), Decisions(r.Decisions))
}

// HeaderOf is the header of a whole in-memory report, titled title.
func HeaderOf(r *contract.Report, title string) Header {
	return Header{GeneratedAt: r.GeneratedAt, Summary: r.Summary, Total: len(r.Decisions), NotScanned: r.NotScanned, Title: title}
}

// Decisions yields ds in order, the way a [Renderer] takes them.
func Decisions(ds []contract.Decision) iter.Seq2[contract.Decision, error] {
	return func(yield func(contract.Decision, error) bool) {
		for _, d := range ds {
			if !yield(d, nil) {
				return
			}
		}
	}
}

// reportTitle is title with each path in it (a word holding a slash)
// reduced to its file name: "/tmp/tmp.x81/fleet.yaml" reads fleet.yaml,
// "run 3 of /etc/factorgate/fleet.yaml" run 3 of fleet.yaml. A report is
// read away from the machine that made it, where the directory means
// nothing, or worse, a temporary one.
func reportTitle(title string) string {
	words := strings.Split(title, " ")
	for i, w := range words {
		if strings.ContainsAny(w, `/\`) {
			t := strings.TrimRight(w, `/\`)
			if j := strings.LastIndexAny(t, `/\`); j >= 0 && j+1 < len(t) {
				words[i] = t[j+1:]
			}
		}
	}
	return strings.Join(words, " ")
}

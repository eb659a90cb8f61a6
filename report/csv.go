package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"iter"
	"strconv"
	"strings"

	"github.com/factorgate/factorgate/contract"
)

func init() { register("csv", func() Renderer { return csvRenderer{} }) }

// csvColumns is the header row of the csv format.
var csvColumns = []string{
	"host", "address", "status", "eligible", "kind", "check", "severity",
	"message", "remediation", "waiver_justification", "waiver_expires",
}

// csvRenderer writes one row per (host, finding), and one row with empty
// finding columns for a host that has none. Kind is violation, warning or
// waived. Hosts that HSS knows but the inventory lacks follow, with status
// not_scanned. Cells a spreadsheet would take for a formula are defused.
type csvRenderer struct{}

// Render implements [Renderer].
func (csvRenderer) Render(w io.Writer, h Header, decisions iter.Seq2[contract.Decision, error]) error {
	cw := csv.NewWriter(w)
	row := func(cells ...string) error {
		for i, c := range cells {
			cells[i] = csvSafe(c)
		}
		return cw.Write(cells)
	}
	if err := cw.Write(csvColumns); err != nil {
		return err
	}
	for d, err := range decisions {
		if err != nil {
			return err
		}
		base := []string{d.Host, ptrText(d.Address), string(d.Status), strconv.FormatBool(d.Eligible)}
		n := 0
		for _, g := range []struct {
			kind string
			fs   []contract.Finding
		}{{"violation", d.Violations}, {"warning", d.Warnings}, {"waived", d.Waived}} {
			for _, f := range g.fs {
				var just, exp string
				if f.Waiver != nil {
					just, exp = f.Waiver.Justification, f.Waiver.Expires
				}
				if err := row(append(base[:4:4], g.kind, f.Check, f.Severity, f.Message, f.Remediation, just, exp)...); err != nil {
					return err
				}
				n++
			}
		}
		if n == 0 {
			if err := row(append(base[:4:4], "", "", "", "", "", "", "")...); err != nil {
				return err
			}
		}
		// Flush per host, so a long run shows progress in a tail -f and a
		// write error surfaces early.
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
	}
	for _, c := range h.NotScanned {
		msg := fmt.Sprintf("known to HSS as %s but not in the inventory: not scanned", c.HostID)
		if err := row(c.HostName, c.PrivateIP, "not_scanned", "false", "", "", "", msg, "Add the host to the inventory and scan it", "", ""); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe defuses a cell that a spreadsheet would run as a formula (one
// that starts with = + - @, a tab or a carriage return, or with = + - @
// after leading spaces and line breaks, which some spreadsheets skip) by
// prefixing a single quote, as OWASP advises.
func csvSafe(s string) string {
	if s == "" {
		return s
	}
	if s[0] == '\t' || s[0] == '\r' {
		return "'" + s
	}
	if t := strings.TrimLeft(s, " \n\t\r"); t != "" {
		switch t[0] {
		case '=', '+', '-', '@':
			return "'" + s
		}
	}
	return s
}

// ptrText is the string p points to, or "" for nil.
func ptrText(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

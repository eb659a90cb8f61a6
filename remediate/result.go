package remediate

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Render prints the result as a table, one host per line, and a summary.
func (r *Result) Render(w io.Writer) error {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tHSS HOST ID\tOUTCOME\tREQUEST ID\tDETAIL")
	counts := map[string]int{}
	for _, h := range r.Hosts {
		detail := h.Error
		if detail == "" {
			detail = h.Note
		}
		rid := h.RequestID
		if rid == "" {
			rid = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", h.Host, h.HostID, h.Outcome, rid, detail)
		counts[h.Outcome]++
	}
	tw.Flush()
	var parts []string
	for _, o := range []string{ResultOK, ResultFailed, ResultUnverified, ResultNotAttempted} {
		if counts[o] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[o], strings.ReplaceAll(o, "_", " ")))
		}
	}
	if len(parts) == 0 {
		parts = []string{"no hosts"}
	}
	fmt.Fprintf(&b, "\n%s: %s.\n", strings.ToUpper(string(r.Action[:1]))+string(r.Action[1:]), strings.Join(parts, ", "))
	_, err := io.WriteString(w, b.String())
	return err
}

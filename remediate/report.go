package remediate

import (
	"encoding/json"
	"io"
)

// ReportSchema names the JSON document of [Report].
const ReportSchema = "factorgate/remediation/v1"

// Report is what enable or disable planned and, when applied, what became
// of each host: the document of `enable --format json`, for a pipeline to
// gate on.
type Report struct {
	Schema string `json:"schema"`
	Action Action `json:"action"`
	// Applied is true when the plan was carried out (--apply or --resume).
	Applied bool `json:"applied"`
	// Journal is the journal of the apply, when applied.
	Journal string `json:"journal,omitempty"`
	Plan    *Plan  `json:"plan"`
	// Result is nil when the plan was not applied.
	Result *Result `json:"result"`
	// Summary counts the hosts of Result by outcome.
	Summary Summary `json:"summary"`
	// AllOK is false when some host of Result is not ok (the command then
	// exits 1); true for a plan that was not applied.
	AllOK bool `json:"all_ok"`
}

// Summary counts the hosts of a [Result] by [Outcome].
type Summary struct {
	OK           int `json:"ok"`
	Failed       int `json:"failed"`
	Unverified   int `json:"unverified"`
	NotAttempted int `json:"not_attempted"`
}

// NewReport gathers a plan and, when it was applied, its result and
// journal.
func NewReport(p *Plan, res *Result, journal string) *Report {
	r := &Report{Schema: ReportSchema, Plan: p, Result: res, AllOK: true}
	if p != nil {
		r.Action = p.Action
	}
	if res != nil {
		r.Action, r.Applied, r.Journal = res.Action, true, journal
		for _, h := range res.Hosts {
			switch h.Outcome {
			case ResultOK:
				r.Summary.OK++
			case ResultFailed:
				r.Summary.Failed++
			case ResultUnverified:
				r.Summary.Unverified++
			case ResultNotAttempted:
				r.Summary.NotAttempted++
			}
		}
		r.AllOK = res.Failed() == 0
	}
	return r
}

// WriteJSON writes the report as one indented JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

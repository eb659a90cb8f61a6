package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"iter"

	"github.com/factorgate/factorgate/contract"
)

func init() {
	register("json", func() Renderer { return jsonRenderer{} })
	register("jsonl", func() Renderer { return jsonlRenderer{} })
}

// jsonRenderer writes the report object of DESIGN.md, {"schema",
// "generated_at", "summary", "decisions", "not_scanned"?}, indented, one
// decision at a time: it reads back as a [contract.Report].
type jsonRenderer struct{}

// Render implements [Renderer].
func (jsonRenderer) Render(w io.Writer, h Header, decisions iter.Seq2[contract.Decision, error]) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	sum := make(map[contract.Status]int, len(contract.Statuses))
	for _, s := range contract.Statuses {
		sum[s] = 0
	}
	for s, n := range h.Summary {
		sum[s] = n
	}
	head := struct {
		Schema      string                  `json:"schema"`
		GeneratedAt any                     `json:"generated_at"`
		Summary     map[contract.Status]int `json:"summary"`
	}{contract.ReportSchema, h.GeneratedAt.UTC(), sum}
	b, err := jsonIndent(head, "")
	if err != nil {
		return err
	}
	// Open the object and leave it open for the decisions.
	bw.Write(bytes.TrimSuffix(bytes.TrimRight(b, "\n"), []byte("\n}")))
	bw.WriteString(",\n  \"decisions\": [")
	n := 0
	for d, err := range decisions {
		if err != nil {
			bw.Flush()
			return err
		}
		b, err := jsonIndent(jsonDecision(d), "    ")
		if err != nil {
			return err
		}
		if n > 0 {
			bw.WriteString(",")
		}
		bw.WriteString("\n    ")
		bw.Write(bytes.TrimRight(b, "\n"))
		n++
	}
	if n > 0 {
		bw.WriteString("\n  ")
	}
	bw.WriteString("]")
	if len(h.NotScanned) > 0 {
		b, err := jsonIndent(h.NotScanned, "  ")
		if err != nil {
			return err
		}
		bw.WriteString(",\n  \"not_scanned\": ")
		bw.Write(bytes.TrimRight(b, "\n"))
	}
	bw.WriteString("\n}\n")
	return bw.Flush()
}

// jsonlRenderer writes one Decision per line, in host order.
type jsonlRenderer struct{}

// Render implements [Renderer].
func (jsonlRenderer) Render(w io.Writer, _ Header, decisions iter.Seq2[contract.Decision, error]) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for d, err := range decisions {
		if err != nil {
			bw.Flush()
			return err
		}
		if err := enc.Encode(jsonDecision(d)); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// jsonIndent encodes v indented by two spaces, each line after the first
// prefixed with prefix, without HTML escaping.
func jsonIndent(v any, prefix string) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent(prefix, "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// jsonDecision gives the finding lists of d as [] rather than null, as the
// contract shows them.
func jsonDecision(d contract.Decision) contract.Decision {
	if d.Violations == nil {
		d.Violations = []contract.Finding{}
	}
	if d.Warnings == nil {
		d.Warnings = []contract.Finding{}
	}
	if d.Waived == nil {
		d.Waived = []contract.Finding{}
	}
	return d
}

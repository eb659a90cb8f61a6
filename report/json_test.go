package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/factorgate/factorgate/contract"
)

func TestJSONGolden(t *testing.T) {
	compareGoldenFile(t, "json.golden.json", renderFixture(t, "json"))
}

func TestJSONLGolden(t *testing.T) {
	compareGoldenFile(t, "jsonl.golden.jsonl", renderFixture(t, "jsonl"))
}

func TestJSONStopsOnError(t *testing.T)  { checkStopsOnError(t, "json") }
func TestJSONLStopsOnError(t *testing.T) { checkStopsOnError(t, "jsonl") }

// filled gives d's finding lists as [] rather than nil, as JSON shows them.
func filled(ds []contract.Decision) []contract.Decision {
	out := make([]contract.Decision, len(ds))
	for i, d := range ds {
		out[i] = jsonDecision(d)
	}
	return out
}

// TestJSONReadsBackAsReport checks that the streamed object is the
// contract's Report, field for field.
func TestJSONReadsBackAsReport(t *testing.T) {
	want := fixtureCompliance()
	var got contract.Report
	if err := json.Unmarshal(renderFixture(t, "json"), &got); err != nil {
		t.Fatalf("not valid JSON: %v", err)
	}
	want.Decisions = filled(want.Decisions)
	if !reflect.DeepEqual(&got, want) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, *want)
	}
}

func TestJSONEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := RenderReport(&buf, "json", contract.NewReport(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), nil)); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("%v:\n%s", err, buf.String())
	}
	if d, ok := got["decisions"].([]any); !ok || len(d) != 0 {
		t.Errorf("decisions = %#v, want []", got["decisions"])
	}
	if _, ok := got["not_scanned"]; ok {
		t.Error("not_scanned present without hosts")
	}
	if got["generated_at"] != "2026-01-02T03:04:05Z" || got["schema"] != contract.ReportSchema {
		t.Errorf("head = %v", got)
	}
}

func TestJSONLOneDecisionPerLine(t *testing.T) {
	want := filled(fixtureCompliance().Decisions)
	sc := bufio.NewScanner(bytes.NewReader(renderFixture(t, "jsonl")))
	var got []contract.Decision
	for sc.Scan() {
		var d contract.Decision
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatalf("line %d: %v", len(got)+1, err)
		}
		got = append(got, d)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("jsonl:\n got %+v\nwant %+v", got, want)
	}
}

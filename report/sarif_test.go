package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/factorgate/factorgate/contract"
)

func TestSARIFGolden(t *testing.T) {
	compareGoldenFile(t, "sarif.golden.sarif", renderFixture(t, "sarif"))
}

func TestSARIFStopsOnError(t *testing.T) { checkStopsOnError(t, "sarif") }

// sarifDoc is a SARIF log parsed back, with the fields SARIF 2.1.0 requires
// and those that code-scanning viewers read.
type sarifDoc struct {
	Schema  string `json:"$schema"`
	Version string `json:"version"`
	Runs    []struct {
		Tool *struct {
			Driver *struct {
				Name           string `json:"name"`
				InformationURI string `json:"informationUri"`
				Rules          []struct {
					ID               string     `json:"id"`
					ShortDescription *sarifText `json:"shortDescription"`
					Help             *sarifText `json:"help"`
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		Results []struct {
			RuleID    string     `json:"ruleId"`
			RuleIndex *int       `json:"ruleIndex"`
			Level     string     `json:"level"`
			Message   *sarifText `json:"message"`
			Locations []struct {
				PhysicalLocation struct {
					ArtifactLocation struct {
						URI string `json:"uri"`
					} `json:"artifactLocation"`
				} `json:"physicalLocation"`
				LogicalLocations []sarifLogical `json:"logicalLocations"`
			} `json:"locations"`
			Suppressions []struct {
				Kind          string `json:"kind"`
				Justification string `json:"justification"`
			} `json:"suppressions"`
		} `json:"results"`
	} `json:"runs"`
}

// validateSARIF checks the structure SARIF 2.1.0 requires of a log and of
// its results, and returns the log.
func validateSARIF(t *testing.T, out []byte) sarifDoc {
	t.Helper()
	var doc sarifDoc
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if doc.Schema == "" || doc.Version != "2.1.0" {
		t.Errorf("$schema %q, version %q", doc.Schema, doc.Version)
	}
	if len(doc.Runs) != 1 {
		t.Fatalf("%d runs, want 1", len(doc.Runs))
	}
	run := doc.Runs[0]
	if run.Tool == nil || run.Tool.Driver == nil || run.Tool.Driver.Name != "factorgate" || run.Tool.Driver.InformationURI == "" {
		t.Fatalf("tool.driver missing or unnamed: %+v", run.Tool)
	}
	rules := run.Tool.Driver.Rules
	ids := map[string]bool{}
	for _, r := range rules {
		if r.ID == "" || r.ShortDescription == nil || r.ShortDescription.Text == "" || r.Help == nil || r.Help.Text == "" {
			t.Errorf("rule %+v lacks id, shortDescription or help", r)
		}
		if ids[r.ID] {
			t.Errorf("rule %s listed twice", r.ID)
		}
		ids[r.ID] = true
	}
	levels := map[string]bool{"none": true, "note": true, "warning": true, "error": true}
	for i, res := range run.Results {
		if res.Message == nil || res.Message.Text == "" {
			t.Errorf("result %d has no message.text", i)
		}
		if !levels[res.Level] {
			t.Errorf("result %d level %q", i, res.Level)
		}
		if res.RuleIndex == nil || *res.RuleIndex < 0 || *res.RuleIndex >= len(rules) || rules[*res.RuleIndex].ID != res.RuleID {
			t.Errorf("result %d: ruleId %q does not match rules[ruleIndex]", i, res.RuleID)
		}
		if len(res.Locations) != 1 || len(res.Locations[0].LogicalLocations) != 1 || res.Locations[0].LogicalLocations[0].Kind != "host" ||
			!strings.HasPrefix(res.Locations[0].PhysicalLocation.ArtifactLocation.URI, "host://") {
			t.Errorf("result %d locations = %+v", i, res.Locations)
		}
		for _, s := range res.Suppressions {
			if s.Kind != "external" && s.Kind != "inSource" {
				t.Errorf("result %d suppression kind %q", i, s.Kind)
			}
		}
	}
	return doc
}

func TestSARIFStructure(t *testing.T) {
	doc := validateSARIF(t, renderFixture(t, "sarif"))
	run := doc.Runs[0]
	count := map[string]int{}
	for _, r := range run.Results {
		host := r.Locations[0].LogicalLocations[0].Name
		kind := r.Level
		if len(r.Suppressions) > 0 {
			kind = "suppressed"
			if !strings.Contains(r.Suppressions[0].Justification, "CHG-1042") || !strings.Contains(r.Suppressions[0].Justification, "2027-01-31") {
				t.Errorf("suppression = %+v", r.Suppressions[0])
			}
		}
		count[host+"/"+r.RuleID+"/"+kind]++
	}
	want := map[string]int{
		"app-03/custom_banner/error": 1, "db-01/openssh_version/error": 1, "db-01/selinux/error": 1,
		"db-01/permit_root_login/warning": 1, "legacy-01/password_login/error": 1,
		"legacy-01/scanner_password_auth/warning": 1, "web-01/protection/warning": 1,
		"web-02/selinux/suppressed": 1, "win-02/reachable/error": 1, "batch-07/not_scanned/note": 1,
	}
	if len(run.Results) != len(want) {
		t.Errorf("%d results, want %d: %v", len(run.Results), len(want), count)
	}
	for k, n := range want {
		if count[k] != n {
			t.Errorf("results %s = %d, want %d", k, count[k], n)
		}
	}
	if got := len(run.Tool.Driver.Rules); got != 9 {
		t.Errorf("%d rules, want one per check seen (9)", got)
	}
}

// TestSARIFEmpty checks that a fleet with no findings is still a valid log
// with empty results and rules.
func TestSARIFEmpty(t *testing.T) {
	r := contract.NewReport(fixtureCompliance().GeneratedAt, []contract.Decision{{Host: "win-01", Status: contract.StatusEnabled, Eligible: true}})
	var buf bytes.Buffer
	if err := RenderReport(&buf, "sarif", r); err != nil {
		t.Fatal(err)
	}
	doc := validateSARIF(t, buf.Bytes())
	if n := len(doc.Runs[0].Results); n != 0 {
		t.Errorf("%d results", n)
	}
	if !strings.Contains(buf.String(), `"results": []`) || !strings.Contains(buf.String(), `"rules": []`) {
		t.Errorf("results or rules not an empty array:\n%s", buf.String())
	}
}

func TestPathEscape(t *testing.T) {
	for in, want := range map[string]string{"web-01": "web-01", "a b/c": "a%20b%2Fc", "é": "%C3%A9"} {
		if got := pathEscape(in); got != want {
			t.Errorf("pathEscape(%q) = %q, want %q", in, got, want)
		}
	}
}

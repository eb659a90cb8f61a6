package report

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/policies"
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
				Name           string         `json:"name"`
				InformationURI string         `json:"informationUri"`
				Rules          []sarifDocRule `json:"rules"`
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
			PartialFingerprints map[string]string `json:"partialFingerprints"`
			Suppressions        []struct {
				Kind          string `json:"kind"`
				Justification string `json:"justification"`
			} `json:"suppressions"`
		} `json:"results"`
	} `json:"runs"`
}

// sarifDocRule is a rule of a parsed SARIF log.
type sarifDocRule struct {
	ID                   string     `json:"id"`
	ShortDescription     *sarifText `json:"shortDescription"`
	Help                 *sarifText `json:"help"`
	DefaultConfiguration struct {
		Level string `json:"level"`
	} `json:"defaultConfiguration"`
}

// helpText is the rule's help text, or "" if it has none.
func (r sarifDocRule) helpText() string {
	if r.Help == nil {
		return ""
	}
	return r.Help.Text
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
			!strings.HasPrefix(res.Locations[0].PhysicalLocation.ArtifactLocation.URI, "host:") {
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
	if got, want := len(run.Tool.Driver.Rules), fixedRules(t)+3; got != want {
		t.Errorf("%d rules, want the fixed table and one per user check seen (%d)", got, want)
	}
}

// TestSARIFEmpty checks that a fleet with no findings is still a valid log
// with empty results and the fixed table's rules.
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
	if !strings.Contains(buf.String(), `"results": []`) {
		t.Errorf("results not an empty array:\n%s", buf.String())
	}
	if n, want := len(doc.Runs[0].Tool.Driver.Rules), fixedRules(t); n != want {
		t.Errorf("%d rules, want the fixed table's %d", n, want)
	}
}

// fixedRules is how many rules every log lists: the bundle's checks and
// not_scanned.
func fixedRules(t *testing.T) int {
	t.Helper()
	rules, err := sarifFixedRules()
	if err != nil {
		t.Fatal(err)
	}
	return len(rules)
}

func TestPathEscape(t *testing.T) {
	for in, want := range map[string]string{"web-01": "web-01", "a b/c": "a%20b%2Fc", "é": "%C3%A9"} {
		if got := pathEscape(in); got != want {
			t.Errorf("pathEscape(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSARIFFingerprintsDistinct checks that several results of one check
// on one host get fingerprints of their own, so a code-scanning dashboard
// keeps them apart, and that a result keeps its fingerprint across runs.
func TestSARIFFingerprintsDistinct(t *testing.T) {
	d := contract.Decision{Host: "legacy-01", Status: contract.StatusIneligible, Violations: []contract.Finding{
		{Check: "password_login", Message: "PasswordAuthentication is no"},
		{Check: "password_login", Message: "UsePAM is no"},
		{Check: "password_login", Message: "PermitEmptyPasswords is yes"},
	}}
	d2 := d
	d2.Host = "legacy-02"
	render := func() []string {
		var buf bytes.Buffer
		if err := RenderReport(&buf, "sarif", contract.NewReport(fixtureCompliance().GeneratedAt, []contract.Decision{d, d2})); err != nil {
			t.Fatal(err)
		}
		doc := validateSARIF(t, buf.Bytes())
		var fps []string
		for _, r := range doc.Runs[0].Results {
			if len(r.PartialFingerprints) != 1 {
				t.Fatalf("partialFingerprints = %v", r.PartialFingerprints)
			}
			for _, v := range r.PartialFingerprints {
				fps = append(fps, v)
			}
		}
		return fps
	}
	fps := render()
	if len(fps) != 6 {
		t.Fatalf("%d results, want 6", len(fps))
	}
	seen := map[string]bool{}
	for _, fp := range fps {
		if seen[fp] {
			t.Errorf("fingerprint %q shared by two results: %v", fp, fps)
		}
		seen[fp] = true
	}
	if again := render(); !slices.Equal(fps, again) {
		t.Errorf("fingerprints changed between runs: %v, then %v", fps, again)
	}
}

// TestSARIFRules checks that the bundled checks' rules come from a fixed
// table, whatever finding is seen first, and that a user check's rule
// takes the most severe level seen and no host's remediation.
func TestSARIFRules(t *testing.T) {
	r := contract.NewReport(fixtureCompliance().GeneratedAt, []contract.Decision{
		{Host: "a", Status: contract.StatusEligible, Warnings: []contract.Finding{
			{Check: "reachable", Message: "slow to answer", Remediation: "REMEDIATION-OF-A"},
			{Check: "protection", Message: "not verified", Remediation: "REMEDIATION-OF-A"},
			{Check: "user_check", Message: "w", Remediation: "REMEDIATION-OF-A"},
		}},
		{Host: "b", Status: contract.StatusIneligible, Violations: []contract.Finding{
			{Check: "user_check", Message: "v", Remediation: "REMEDIATION-OF-B"},
		}, Warnings: []contract.Finding{
			{Check: "other_check", Message: "w"},
		}},
	})
	var buf bytes.Buffer
	if err := RenderReport(&buf, "sarif", r); err != nil {
		t.Fatal(err)
	}
	doc := validateSARIF(t, buf.Bytes())
	rules := map[string]sarifDocRule{}
	var order []string
	for _, rule := range doc.Runs[0].Tool.Driver.Rules {
		rules[rule.ID] = rule
		order = append(order, rule.ID)
	}
	bundle := []string{"must_change_password", "openssh_version", "os_supported", "password_login", "protection", "rdp", "reachable", "selinux", "topic"}
	if want := append(append(bundle, "not_scanned"), "user_check", "other_check"); !slices.Equal(order, want) {
		t.Errorf("rules = %v, want %v", order, want)
	}
	catalogue, err := policies.Checks()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range catalogue {
		rule := rules[c.ID]
		if rule.ShortDescription == nil || rule.ShortDescription.Text != c.Title || rule.DefaultConfiguration.Level != c.SARIFLevel {
			t.Errorf("rule %s = %+v, want the catalogue's title %q and level %s", c.ID, rule, c.Title, c.SARIFLevel)
		}
		for _, src := range c.Sources {
			if !strings.Contains(rule.helpText(), src) {
				t.Errorf("rule %s help %q lacks source page %s", c.ID, rule.helpText(), src)
			}
		}
	}
	for _, id := range bundle {
		rule := rules[id]
		if rule.DefaultConfiguration.Level != "error" {
			t.Errorf("rule %s level %q, want error", id, rule.DefaultConfiguration.Level)
		}
		if strings.Contains(rule.helpText(), "REMEDIATION") {
			t.Errorf("rule %s help carries a host's remediation: %q", id, rule.helpText())
		}
	}
	if h := rules["protection"].helpText(); !strings.Contains(h, "hss_01_0260") || !strings.Contains(h, "protection") {
		t.Errorf("protection help = %q", h)
	}
	if l := rules["not_scanned"].DefaultConfiguration.Level; l != "note" {
		t.Errorf("not_scanned level %q, want note", l)
	}
	if l := rules["user_check"].DefaultConfiguration.Level; l != "error" {
		t.Errorf("user_check level %q, want the most severe seen (error)", l)
	}
	if l := rules["other_check"].DefaultConfiguration.Level; l != "warning" {
		t.Errorf("other_check level %q, want warning", l)
	}
	if h := rules["user_check"].helpText(); strings.Contains(h, "REMEDIATION") || !strings.Contains(h, "user_check") {
		t.Errorf("user_check help = %q", h)
	}
}

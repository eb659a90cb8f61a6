package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"strings"
	"time"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/policies"
)

func init() { register("sarif", func() Renderer { return sarifRenderer{} }) }

// SARIF constants: the schema and version written, and where the tool is
// described.
const (
	sarifSchema  = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	sarifVersion = "2.1.0"
	sarifInfoURI = "https://github.com/factorgate/factorgate"
)

// sarifRenderer writes SARIF 2.1.0 for code-scanning dashboards: one run,
// one result per violation (level error), warning (level warning) and
// waived violation (a result with an external, accepted suppression that
// carries the justification and expiry), and one note per host that HSS
// knows but the inventory lacks (rule not_scanned). The driver lists the
// rules of the bundle's checks, from the check catalogue
// ([policies.Checks]: title, description, source pages, level), then
// not_scanned, then one per user check seen, in order of first sight. Each result's fingerprint
// is its host, check and a hash of its message.
//
// A host is not a file: each result names its host as a logical location
// {"name": HOST, "kind": "host"} and, for the viewers that need a physical
// location, as the artifact URI host:HOST (the host name percent-escaped:
// a name any host reports, controls and spaces included, makes a URI that
// RFC 3986 and strict parsers such as Go's accept, which an authority,
// host://HOST, cannot carry).
//
// Results are streamed; the rules, whose user checks and their levels are
// known only at the end, follow them inside the run object, which JSON
// allows.
type sarifRenderer struct{}

type sarifResult struct {
	RuleID              string             `json:"ruleId"`
	RuleIndex           int                `json:"ruleIndex"`
	Level               string             `json:"level"`
	Message             sarifText          `json:"message"`
	Locations           []sarifLocation    `json:"locations"`
	PartialFingerprints map[string]string  `json:"partialFingerprints"`
	Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
	Properties          map[string]any     `json:"properties,omitempty"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical  `json:"physicalLocation"`
	LogicalLocations []sarifLogical `json:"logicalLocations"`
}

type sarifPhysical struct {
	ArtifactLocation struct {
		URI string `json:"uri"`
	} `json:"artifactLocation"`
}

type sarifLogical struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
}

type sarifSuppression struct {
	Kind          string `json:"kind"`
	Status        string `json:"status"`
	Justification string `json:"justification"`
}

type sarifRule struct {
	ID                   string      `json:"id"`
	Name                 string      `json:"name"`
	ShortDescription     sarifText   `json:"shortDescription"`
	FullDescription      sarifText   `json:"fullDescription"`
	Help                 sarifText   `json:"help"`
	DefaultConfiguration sarifConfig `json:"defaultConfiguration"`
}

type sarifConfig struct {
	Level string `json:"level"`
}

// sarifNotScanned is the rule of the notes on hosts HSS knows but the
// inventory lacks; it follows the bundle's checks in every log.
var sarifNotScanned = sarifRule{
	ID: "not_scanned", Name: "not_scanned",
	ShortDescription:     sarifText{"Host known to HSS but not in the inventory"},
	FullDescription:      sarifText{"HSS lists this host, but the inventory lacks it, so its eligibility is unknown."},
	Help:                 sarifText{"Add the host to the inventory and scan it, or remove it from HSS if it is gone."},
	DefaultConfiguration: sarifConfig{Level: "note"},
}

// sarifFixedRules are the rules every log lists, in this order and so at
// these indices: the bundle's checks from the catalogue ([policies.Checks],
// sorted by ID), then not_scanned. A user policy's checks follow, in order
// of first sight.
func sarifFixedRules() ([]sarifRule, error) {
	checks, err := policies.Checks()
	if err != nil {
		return nil, fmt.Errorf("sarif: the check catalogue: %w", err)
	}
	rules := make([]sarifRule, 0, len(checks)+1)
	for _, c := range checks {
		rules = append(rules, sarifBundleRule(c))
	}
	return append(rules, sarifNotScanned), nil
}

// sarifLevelRank orders SARIF levels by severity.
var sarifLevelRank = map[string]int{"none": 0, "note": 1, "warning": 2, "error": 3}

// Render implements [Renderer].
func (sarifRenderer) Render(w io.Writer, h Header, decisions iter.Seq2[contract.Decision, error]) error {
	// The rules are known before the first byte is written, so a broken
	// catalogue leaves no half-written log.
	rules, err := sarifFixedRules()
	if err != nil {
		return err
	}
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "{\n  \"$schema\": %q,\n  \"version\": %q,\n  \"runs\": [\n    {\n      \"results\": [", sarifSchema, sarifVersion)
	fixed := len(rules)
	index := make(map[string]int, fixed)
	for i, r := range rules {
		index[r.ID] = i
	}
	n := 0
	emit := func(res sarifResult) error {
		i, ok := index[res.RuleID]
		switch {
		case !ok:
			i = len(rules)
			index[res.RuleID] = i
			rules = append(rules, sarifUserRule(res.RuleID, res.Level))
		case i >= fixed && sarifLevelRank[res.Level] > sarifLevelRank[rules[i].DefaultConfiguration.Level]:
			// A user check's rule takes the most severe level seen; the
			// rules are written after the results, so this is in time.
			rules[i].DefaultConfiguration.Level = res.Level
		}
		res.RuleIndex = i
		b, err := sarifIndent(res, "        ")
		if err != nil {
			return err
		}
		if n > 0 {
			fmt.Fprint(ew, ",")
		}
		fmt.Fprintf(ew, "\n        %s", b)
		n++
		return ew.err
	}
	for d, err := range decisions {
		if err != nil {
			return err
		}
		for _, g := range []struct {
			level string
			fs    []contract.Finding
			waive bool
		}{{"error", d.Violations, false}, {"warning", d.Warnings, false}, {"error", d.Waived, true}} {
			for _, f := range g.fs {
				res := sarifResultFor(d.Host, d.Status, g.level, f)
				if g.waive {
					res.Suppressions = []sarifSuppression{{Kind: "external", Status: "accepted", Justification: waiverText(f)}}
				}
				if err := emit(res); err != nil {
					return err
				}
			}
		}
	}
	for _, c := range h.NotScanned {
		res := sarifResultFor(c.HostName, "not_scanned", "note", contract.Finding{
			Check:   "not_scanned",
			Message: fmt.Sprintf("known to HSS as %s but not in the inventory: not scanned", c.HostID),
		})
		if err := emit(res); err != nil {
			return err
		}
	}
	if n > 0 {
		fmt.Fprint(ew, "\n      ")
	}
	fmt.Fprint(ew, "],\n      \"tool\": {\n        \"driver\": ")
	driver := map[string]any{"name": "factorgate", "informationUri": sarifInfoURI, "rules": rules}
	b, err := sarifIndent(driver, "        ")
	if err != nil {
		return err
	}
	ew.Write(b)
	fmt.Fprint(ew, "\n      },\n      \"invocations\": ")
	inv := []map[string]any{{"executionSuccessful": true}}
	if !h.GeneratedAt.IsZero() {
		inv[0]["endTimeUtc"] = h.GeneratedAt.UTC().Format(time.RFC3339)
	}
	if b, err = sarifIndent(inv, "      "); err != nil {
		return err
	}
	ew.Write(b)
	props := map[string]any{"summary": h.Summary, "hosts": h.Total, "not_scanned": len(h.NotScanned)}
	if h.Title != "" {
		props["title"] = h.Title
	}
	if b, err = sarifIndent(props, "      "); err != nil {
		return err
	}
	fmt.Fprintf(ew, ",\n      \"properties\": %s\n    }\n  ]\n}\n", b)
	return ew.err
}

// sarifResultFor is the result of finding f on host.
func sarifResultFor(host string, status contract.Status, level string, f contract.Finding) sarifResult {
	res := sarifResult{
		RuleID:              f.Check,
		Level:               level,
		Message:             sarifText{host + ": " + f.Message},
		PartialFingerprints: map[string]string{"factorgate/host-check-message/v1": sarifFingerprint(host, f)},
		Properties:          map[string]any{"host": host, "status": string(status)},
	}
	var loc sarifLocation
	loc.PhysicalLocation.ArtifactLocation.URI = "host:" + pathEscape(host)
	loc.LogicalLocations = []sarifLogical{{Name: host, Kind: "host"}}
	res.Locations = []sarifLocation{loc}
	if f.Severity != "" {
		res.Properties["severity"] = f.Severity
	}
	if f.Remediation != "" {
		res.Properties["remediation"] = f.Remediation
	}
	if f.Waiver != nil {
		res.Properties["waiver_expires"] = f.Waiver.Expires
	}
	return res
}

// sarifFingerprint identifies the result of finding f on host across
// runs: host and check, and a short hash of the check and message, so that
// several results of one check on one host (password_login can give three)
// stay apart.
func sarifFingerprint(host string, f contract.Finding) string {
	sum := sha256.Sum256([]byte(f.Check + "\n" + f.Message))
	return host + "/" + f.Check + "/" + hex.EncodeToString(sum[:8])
}

// sarifBundleRule is the rule of a check of the catalogue.
func sarifBundleRule(c policies.Check) sarifRule {
	help := c.Description
	switch len(c.Sources) {
	case 0:
	case 1:
		help += " Source: HSS user guide page " + c.Sources[0] + "."
	default:
		help += " Sources: HSS user guide pages " + strings.Join(c.Sources, ", ") + "."
	}
	return sarifRule{
		ID: c.ID, Name: c.ID,
		ShortDescription:     sarifText{c.Title},
		FullDescription:      sarifText{c.Description},
		Help:                 sarifText{help},
		DefaultConfiguration: sarifConfig{Level: c.SARIFLevel},
	}
}

// sarifUserRule is the rule of check id, not in the fixed table (a user
// policy's, or one of the bundle's warnings), first seen at level. Each result carries its own remediation in its properties.
func sarifUserRule(id, level string) sarifRule {
	return sarifRule{
		ID: id, Name: id,
		ShortDescription:     sarifText{"Policy check " + id},
		FullDescription:      sarifText{"A check of the bundled policies or of a user policy under data.factorgate."},
		Help:                 sarifText{"See the policy that defines " + id + "; each result's remediation property says how to fix it."},
		DefaultConfiguration: sarifConfig{Level: level},
	}
}

// sarifIndent is v as indented JSON whose continuation lines start with
// prefix.
func sarifIndent(v any, prefix string) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent(prefix, "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// pathEscape escapes s for the path of a host: URI, keeping the letters,
// digits and - . _ ~ that host names use.
func pathEscape(s string) string {
	const hex = "0123456789ABCDEF"
	var b []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b = append(b, c)
			continue
		}
		b = append(b, '%', hex[c>>4], hex[c&15])
	}
	return string(b)
}

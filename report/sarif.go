package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"time"

	"github.com/factorgate/factorgate/contract"
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
// knows but the inventory lacks (rule not_scanned). The driver lists one
// rule per check ID seen, in order of first sight.
//
// A host is not a file: each result names its host as a logical location
// {"name": HOST, "kind": "host"} and, for the viewers that need a physical
// location, as the artifact URI host://HOST (the host name path-escaped).
//
// Results are streamed; the rules, known only at the end, follow them
// inside the run object, which JSON allows.
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
	ID                   string         `json:"id"`
	Name                 string         `json:"name"`
	ShortDescription     sarifText      `json:"shortDescription"`
	FullDescription      sarifText      `json:"fullDescription"`
	Help                 sarifText      `json:"help"`
	DefaultConfiguration map[string]any `json:"defaultConfiguration"`
}

// sarifCheckDocs describes the bundled checks: what each requires, and the
// HSS page the rule comes from.
var sarifCheckDocs = map[string]struct{ short, full, source string }{
	"reachable":       {"The host was scanned", "The scanner reached the host and read its facts; an unreachable host cannot be judged.", ""},
	"os_supported":    {"Linux or Windows", "HSS 2FA covers Linux (SSH password logins) and Windows (RDP logins) only.", "hss_01_0568"},
	"openssh_version": {"OpenSSH server earlier than 8", "On Linux, 2FA applies to SSH password logins with an OpenSSH server version known and earlier than 8.", "hss_01_0568"},
	"password_login":  {"sshd takes password logins the way 2FA hooks them", "PasswordAuthentication yes, UsePAM yes, ChallengeResponseAuthentication (keyboard-interactive) yes and PermitEmptyPasswords no.", "hss_01_0440"},
	"selinux":         {"SELinux permanently disabled", "SELinux off now and SELINUX=disabled in /etc/selinux/config (or not installed); permissive is not disabled.", "hss_01_0472"},
	"rdp":             {"RDP logins enabled", "On Windows, 2FA applies to RDP logins, which must be enabled.", "hss_01_0568"},
	"must_change_password": {"No enabled account must change its password at next logon",
		"\"User must change password at next logon\" is not allowed while 2FA is on.", "hss_01_0568"},
	"protection":  {"HSS agent online and server protection enabled", "Server protection must be enabled before 2FA; with no cloud facts a running agent is only a warning.", "hss_01_0260"},
	"topic":       {"SMN topic with a confirmed subscription", "SMS/email mode needs an SMN topic with a confirmed sms or email subscription.", "hss_01_0568"},
	"not_scanned": {"Host known to HSS but not in the inventory", "HSS lists this host, but the inventory lacks it, so its eligibility is unknown.", ""},
}

// Render implements [Renderer].
func (sarifRenderer) Render(w io.Writer, h Header, decisions iter.Seq2[contract.Decision, error]) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "{\n  \"$schema\": %q,\n  \"version\": %q,\n  \"runs\": [\n    {\n      \"results\": [", sarifSchema, sarifVersion)
	var (
		rules []sarifRule
		index = map[string]int{}
		n     int
	)
	emit := func(res sarifResult, remediation string) error {
		i, ok := index[res.RuleID]
		if !ok {
			i = len(rules)
			index[res.RuleID] = i
			rules = append(rules, sarifRuleFor(res.RuleID, res.Level, remediation))
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
				if err := emit(res, f.Remediation); err != nil {
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
		if err := emit(res, "Add the host to the inventory and scan it."); err != nil {
			return err
		}
	}
	if n > 0 {
		fmt.Fprint(ew, "\n      ")
	}
	fmt.Fprint(ew, "],\n      \"tool\": {\n        \"driver\": ")
	driver := map[string]any{"name": "factorgate", "informationUri": sarifInfoURI, "rules": rules}
	if rules == nil {
		driver["rules"] = []sarifRule{}
	}
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
func sarifResultFor(host, status, level string, f contract.Finding) sarifResult {
	res := sarifResult{
		RuleID:              f.Check,
		Level:               level,
		Message:             sarifText{host + ": " + f.Message},
		PartialFingerprints: map[string]string{"factorgate/host-check/v1": host + "/" + f.Check},
		Properties:          map[string]any{"host": host, "status": status},
	}
	var loc sarifLocation
	loc.PhysicalLocation.ArtifactLocation.URI = "host://" + pathEscape(host)
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

// sarifRuleFor describes check id, first seen at level: from the bundled
// docs, or, for a user policy's check, from the first remediation seen.
func sarifRuleFor(id, level, remediation string) sarifRule {
	r := sarifRule{ID: id, Name: id, DefaultConfiguration: map[string]any{"level": level}}
	if doc, ok := sarifCheckDocs[id]; ok {
		r.ShortDescription = sarifText{doc.short}
		r.FullDescription = sarifText{doc.full}
		r.Help = sarifText{doc.full}
		if doc.source != "" {
			r.Help.Text += " Source: HSS user guide page " + doc.source + "."
		}
		if remediation != "" {
			r.Help.Text += " Remediation: " + remediation
		}
		return r
	}
	r.ShortDescription = sarifText{"Policy check " + id}
	r.FullDescription = sarifText{"A check of the bundled policies or of a user policy under data.factorgate."}
	r.Help = sarifText{"See the policy that defines " + id + "."}
	if remediation != "" {
		r.Help.Text = "Remediation: " + remediation
	}
	return r
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

// pathEscape escapes s for the authority of a host:// URI, keeping the
// letters, digits and - . _ ~ that host names use.
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

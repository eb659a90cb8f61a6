package policies

import (
	"encoding/json"
	"fmt"

	"github.com/factorgate/factorgate/contract"
	"github.com/open-policy-agent/opa/v1/ast"
)

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

// Keys of the Decision object, made once.
var (
	kHost          = ast.StringTerm("host")
	kAddress       = ast.StringTerm("address")
	kHSSHostID     = ast.StringTerm("hss_host_id")
	kAuth          = ast.StringTerm("auth")
	kOS            = ast.StringTerm("os")
	kTransport     = ast.StringTerm("transport")
	kStatus        = ast.StringTerm("status")
	kEligible      = ast.StringTerm("eligible")
	kViolations    = ast.StringTerm("violations")
	kWarnings      = ast.StringTerm("warnings")
	kWaived        = ast.StringTerm("waived")
	kLabels        = ast.StringTerm("labels")
	kCheck         = ast.StringTerm("check")
	kMessage       = ast.StringTerm("message")
	kRemediation   = ast.StringTerm("remediation")
	kSeverity      = ast.StringTerm("severity")
	kWaiver        = ast.StringTerm("waiver")
	kJustification = ast.StringTerm("justification")
	kExpires       = ast.StringTerm("expires")
)

// decodeDecision reads the Decision object the bundle computed straight
// from its AST, without a JSON round trip.
func decodeDecision(v ast.Value) (contract.Decision, error) {
	var d contract.Decision
	obj, ok := v.(ast.Object)
	if !ok {
		return d, fmt.Errorf("decision is %s, not an object", ast.ValueName(v))
	}
	host, ok := str(obj.Get(kHost))
	if !ok {
		return d, fmt.Errorf("decision has no host")
	}
	d.Host = host
	d.Address = optStr(obj.Get(kAddress))
	d.HSSHostID = optStr(obj.Get(kHSSHostID))
	d.Auth = optStr(obj.Get(kAuth))
	d.OS = optStr(obj.Get(kOS))
	d.Transport = optStr(obj.Get(kTransport))
	status, ok := str(obj.Get(kStatus))
	if !ok {
		return d, fmt.Errorf("decision on %s has no status", host)
	}
	var err error
	if d.Status, err = contract.ParseStatus(status); err != nil {
		return d, fmt.Errorf("decision on %s: %w", host, err)
	}
	if b, ok := obj.Get(kEligible).Value.(ast.Boolean); ok {
		d.Eligible = bool(b)
	}
	if d.Violations, err = findings(obj.Get(kViolations)); err != nil {
		return d, fmt.Errorf("decision on %s: violations: %w", host, err)
	}
	if d.Warnings, err = findings(obj.Get(kWarnings)); err != nil {
		return d, fmt.Errorf("decision on %s: warnings: %w", host, err)
	}
	if d.Waived, err = findings(obj.Get(kWaived)); err != nil {
		return d, fmt.Errorf("decision on %s: waived: %w", host, err)
	}
	if t := obj.Get(kLabels); t != nil {
		if lo, ok := t.Value.(ast.Object); ok && lo.Len() > 0 {
			d.Labels = make(map[string]string, lo.Len())
			lo.Foreach(func(k, v *ast.Term) {
				ks, _ := str(k)
				vs, ok := str(v)
				if !ok {
					vs = v.Value.String()
				}
				d.Labels[ks] = vs
			})
		}
	}
	return d, nil
}

func findings(t *ast.Term) ([]contract.Finding, error) {
	out := []contract.Finding{}
	if t == nil {
		return out, nil
	}
	arr, ok := t.Value.(*ast.Array)
	if !ok {
		return nil, fmt.Errorf("%s, not an array", ast.ValueName(t.Value))
	}
	var err error
	arr.Foreach(func(e *ast.Term) {
		if err != nil {
			return
		}
		o, ok := e.Value.(ast.Object)
		if !ok {
			err = fmt.Errorf("finding %s is not an object", e)
			return
		}
		f := contract.Finding{}
		f.Check, _ = str(o.Get(kCheck))
		f.Message, _ = str(o.Get(kMessage))
		f.Remediation, _ = str(o.Get(kRemediation))
		f.Severity, _ = str(o.Get(kSeverity))
		if w := o.Get(kWaiver); w != nil {
			if wo, ok := w.Value.(ast.Object); ok {
				f.Waiver = &contract.Waiver{}
				f.Waiver.Justification, _ = str(wo.Get(kJustification))
				f.Waiver.Expires, _ = str(wo.Get(kExpires))
			}
		}
		out = append(out, f)
	})
	return out, err
}

func str(t *ast.Term) (string, bool) {
	if t == nil {
		return "", false
	}
	s, ok := t.Value.(ast.String)
	return string(s), ok
}

// optStr reads a nullable string; null, an empty string or another type
// is unknown (nil).
func optStr(t *ast.Term) *string {
	s, ok := str(t)
	if !ok || s == "" {
		return nil
	}
	return &s
}

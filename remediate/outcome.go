package remediate

import (
	"fmt"
	"strings"
)

// Outcome is what happened to one host of a plan, in a [Result]. Its JSON
// form is the constant's value (not_attempted); [Outcome.String] says it in
// words (not attempted).
type Outcome string

// The outcomes of a host in a [Result].
const (
	// ResultOK: the change was made and the 2FA list shows it.
	ResultOK Outcome = "ok"
	// ResultFailed: the API refused the change for this host.
	ResultFailed Outcome = "failed"
	// ResultUnverified: the API took the change but the 2FA list did not
	// show it before the verify timeout.
	ResultUnverified Outcome = "unverified"
	// ResultNotAttempted: the apply stopped before reaching the host.
	ResultNotAttempted Outcome = "not_attempted"
)

// outcomes are the outcomes in the order results count them.
var outcomes = []Outcome{ResultOK, ResultFailed, ResultUnverified, ResultNotAttempted}

// ParseOutcome returns the outcome whose JSON form is s.
func ParseOutcome(s string) (Outcome, error) {
	for _, o := range outcomes {
		if s == string(o) {
			return o, nil
		}
	}
	return "", fmt.Errorf("unknown outcome %q (want one of ok, failed, unverified, not_attempted)", s)
}

// String says the outcome in words.
func (o Outcome) String() string { return strings.ReplaceAll(string(o), "_", " ") }

// MarshalText is the outcome's JSON form.
func (o Outcome) MarshalText() ([]byte, error) { return []byte(o), nil }

// UnmarshalText reads an outcome with [ParseOutcome].
func (o *Outcome) UnmarshalText(b []byte) error {
	v, err := ParseOutcome(string(b))
	*o = v
	return err
}

// Step is the outcome of one API call for a host, or of its verification,
// in a [Journal] entry.
type Step string

// The steps of a journal entry.
const (
	// OutcomePending: the call is about to be made; its fate is unknown
	// until a later entry of the host says ok or failed.
	OutcomePending Step = "pending"
	// OutcomeOK: the call was taken (or the verification saw the change).
	OutcomeOK Step = "ok"
	// OutcomeFailed: the call was refused (or the verification timed out).
	OutcomeFailed Step = "failed"
)

// ParseStep returns the journal step whose JSON form is s.
func ParseStep(s string) (Step, error) {
	switch Step(s) {
	case OutcomePending, OutcomeOK, OutcomeFailed:
		return Step(s), nil
	}
	return "", fmt.Errorf("unknown outcome %q (want pending, ok or failed)", s)
}

// UnmarshalText reads a step with [ParseStep].
func (s *Step) UnmarshalText(b []byte) error {
	v, err := ParseStep(string(b))
	*s = v
	return err
}

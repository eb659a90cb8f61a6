package main

import (
	"os"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/factorgate/factorgate/cloud"
	"github.com/factorgate/factorgate/report"
	"github.com/factorgate/factorgate/scanner"
)

// Every flag is defined once, below, and verbs compose them. A flag that a
// verb takes but that does not apply to the way it was called is refused
// with [notApplicable], never ignored.

// inventoryFlag is -i: the fleet to scan.
func inventoryFlag() cli.Flag {
	return &cli.StringFlag{Name: "inventory", Aliases: []string{"i"}, Usage: "scan the hosts of the inventory `FILE` (YAML or Ansible)"}
}

// limitFlag is --limit: hosts selected by name or label.
func limitFlag() cli.Flag {
	return &cli.StringSliceFlag{Name: "limit", Usage: "only the hosts whose name matches `GLOB`, or whose label matches KEY=GLOB, group=NAME for an Ansible group (repeatable or comma-separated; a host matching any is kept)"}
}

// authModeFlag is --auth-mode: the 2FA mode to judge for, check the topic
// of, and enable.
func authModeFlag() cli.Flag {
	return &cli.StringFlag{Name: "auth-mode", Usage: "2FA `MODE`: code (a verification code) or sms (SMS/email codes through the SMN topic of --topic-urn); default the auth_mode of --data, else code"}
}

// topicURNFlag is --topic-urn: the SMN topic of sms mode.
func topicURNFlag() cli.Flag {
	return &cli.StringFlag{Name: "topic-urn", Usage: "the SMN topic `URN` that sends the codes in sms mode; checked when cloud credentials are set"}
}

// outputFlag is -o; usage says what is written there.
func outputFlag(usage string) cli.Flag {
	return &cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: usage}
}

// formatFlag is --format, for the formats of a report.
func formatFlag() cli.Flag {
	return &cli.StringFlag{Name: "format", Value: "table", Usage: "report `FORMAT`: " + strings.Join(report.Formats(), ", ")}
}

// scanFlags are the flags of every verb that scans an inventory (scan,
// check -i, enable -i, serve).
func scanFlags() []cli.Flag {
	d := scanner.DefaultTimeouts
	return []cli.Flag{
		inventoryFlag(),
		limitFlag(),
		&cli.IntFlag{Name: "concurrency", Value: scanner.DefaultConcurrency, Usage: "hosts scanned at once"},
		&cli.BoolFlag{Name: "accept-new", Usage: "record first-seen host keys in known_hosts (a changed key is still refused)"},
		&cli.BoolFlag{Name: "no-ssh-config", Usage: "ignore ~/.ssh/config"},
		&cli.StringFlag{Name: "ssh-config", Usage: "read this ssh config `FILE` instead of ~/.ssh/config"},
		&cli.DurationFlag{Name: "timeout-dial", Value: d.Dial, Usage: "deadline of each TCP connect"},
		&cli.DurationFlag{Name: "timeout-handshake", Value: d.Handshake, Usage: "deadline of each SSH handshake and login"},
		&cli.DurationFlag{Name: "timeout-probe", Value: d.Probe, Usage: "deadline of the probe on a host"},
		&cli.DurationFlag{Name: "timeout-host", Value: d.Host, Usage: "deadline of everything done on one host"},
		&cli.IntFlag{Name: "retries", Value: 2, Usage: "retries of a connect refused, reset or timed out"},
		&cli.Int64Flag{Name: "max-output", Value: scanner.DefaultMaxOutput, Usage: "bytes a host may send in answer to the probe"},
	}
}

// cloudFlags say where the HSS and SMN APIs are: every verb that talks to
// the cloud takes them.
func cloudFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "region", EnvVars: []string{cloud.EnvRegion}, Usage: "cloud region id, e.g. ap-southeast-1 or eu-de"},
		&cli.StringFlag{Name: "hss-endpoint", EnvVars: []string{cloud.EnvHSSEndpoint}, Usage: "HSS API endpoint `URL` (overrides the region's)"},
		&cli.StringFlag{Name: "smn-endpoint", EnvVars: []string{cloud.EnvSMNEndpoint}, Usage: "SMN API endpoint `URL` (overrides the region's)"},
		&cli.StringFlag{Name: "ca-file", EnvVars: []string{"FACTORGATE_CA_FILE"}, Usage: "PEM `FILE` of extra CAs to trust for the cloud APIs"},
		&cli.StringFlag{Name: "enterprise-project-id", EnvVars: []string{"FACTORGATE_ENTERPRISE_PROJECT_ID"}, Usage: "HSS enterprise project `ID` (all_granted_eps for all)"},
		&cli.IntFlag{Name: "api-retries", Value: 4, EnvVars: []string{"FACTORGATE_API_RETRIES"}, Usage: "retries of an API call answered 429 or 5xx"},
		&cli.DurationFlag{Name: "api-retry-wait", Value: time.Second, EnvVars: []string{"FACTORGATE_API_RETRY_WAIT"}, Usage: "first backoff between API retries (doubles each time)"},
	}
}

// policyFlags are the flags of judging: policies, data, the auth mode and
// waivers.
func policyFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "policy", Usage: "load more Rego policies from `DIR` (repeatable); packages under data.factorgate that define violations or warnings add to every decision"},
		&cli.StringSliceFlag{Name: "data", Usage: "merge the YAML or JSON data document `FILE` into the policies' data (repeatable), e.g. factorgate: {params: {openssh_max_major: 7}}"},
		authModeFlag(),
		&cli.StringFlag{Name: "waivers", Usage: "apply the waivers of `FILE` (YAML); expired waivers are ignored with a warning"},
		&cli.BoolFlag{Name: "judge-cache", Value: true, Usage: "judge hosts whose facts differ only in their identity (name, address, labels...) once; --judge-cache=false judges every host anew"},
	}
}

// checkFlags are the judging and reporting flags of check, shared by every
// verb that judges and reports: [policyFlags], format, output and the gate.
func checkFlags() []cli.Flag {
	return append(policyFlags(),
		formatFlag(),
		outputFlag("write the report to `FILE`, replaced atomically when complete; default stdout"),
		&cli.StringFlag{Name: "fail-on", Value: defaultFailOn, Usage: "exit 1 when some host has one of these `STATUSES` (comma-separated; \"none\" never fails)"},
	)
}

// auditFlags are the flags of a scan-and-judge run: the inventory and scan
// tuning, the cloud, the SMN topic, and the policies. They are shared by
// check -i, enable -i and serve.
func auditFlags() []cli.Flag {
	return mergeFlags(scanFlags(), cloudFlags(), []cli.Flag{topicURNFlag()}, checkFlags())
}

// mergeFlags joins flag lists, keeping the first flag of each name, so that
// verbs can share flag sets that overlap.
func mergeFlags(lists ...[]cli.Flag) []cli.Flag {
	seen := map[string]bool{}
	var out []cli.Flag
	for _, l := range lists {
		for _, f := range l {
			name := f.Names()[0]
			if seen[name] {
				continue
			}
			seen[name] = true
			out = append(out, f)
		}
	}
	return out
}

// withoutFlags returns flags less those named.
func withoutFlags(flags []cli.Flag, names ...string) []cli.Flag {
	var out []cli.Flag
	for _, f := range flags {
		if !slices.Contains(names, f.Names()[0]) {
			out = append(out, f)
		}
	}
	return out
}

// flagNames returns the names of flags, less those of except.
func flagNames(flags []cli.Flag, except ...string) []string {
	var out []string
	for _, f := range flags {
		if n := f.Names()[0]; !slices.Contains(except, n) {
			out = append(out, n)
		}
	}
	return out
}

// given reports whether the flag name was given to the verb of c on the
// command line. A flag set only through its environment variable
// (FACTORGATE_API_RETRY_WAIT ...) is configuration, not a request, and does
// not count.
func given(c *cli.Context, name string) bool {
	if !c.IsSet(name) {
		return false
	}
	for _, f := range c.Command.Flags {
		if !slices.Contains(f.Names(), name) {
			continue
		}
		if ef, ok := f.(interface{ GetEnvVars() []string }); ok {
			for _, e := range ef.GetEnvVars() {
				if os.Getenv(e) != "" {
					return false
				}
			}
		}
	}
	return true
}

// notApplicable returns a usage error naming the first of the flags given
// on the command line: it does not apply to the verb called as why says
// ("with --facts: nothing is scanned").
func notApplicable(c *cli.Context, why string, names ...string) error {
	for _, n := range names {
		if given(c, n) {
			return usageErrorf("%s: --%s does not apply %s", c.Command.Name, n, why)
		}
	}
	return nil
}

package main

import (
	"context"
	"fmt"
	"slices"

	"github.com/factorgate/factorgate/audit"
	"github.com/factorgate/factorgate/cloud"
	"github.com/urfave/cli/v2"
)

// auditFlags are the flags of a scan-and-judge run: the inventory and scan
// tuning, the cloud, the SMN topic, and the policies. They are shared by
// check -i, enable -i and serve.
func auditFlags() []cli.Flag {
	return mergeFlags(scanFlags(), cloudFlags(), []cli.Flag{
		&cli.StringFlag{Name: "topic-urn", Usage: "the SMN topic `URN` of SMS/email 2FA, checked with --auth-mode sms"},
	}, checkFlags())
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

// runAudit scans the inventory of -i (with the cloud's view when cloud
// credentials are set) and judges every host with the policies of the flags.
func runAudit(ctx context.Context, c *cli.Context) (*audit.Result, error) {
	inv, hosts, err := loadHosts(c)
	if err != nil {
		return nil, err
	}
	opts, err := scanOptionsFromFlags(c)
	if err != nil {
		return nil, usageErrorf("%s: %v", c.Command.Name, err)
	}
	ev, err := evaluatorFromFlags(c)
	if err != nil {
		return nil, err
	}
	client, err := cloudFromFlags(c)
	if err != nil {
		return nil, err
	}
	topic := cloud.TopicOptions{AuthMode: c.String("auth-mode"), URN: c.String("topic-urn")}
	if topic.AuthMode == cloud.AuthSMS && topic.URN == "" {
		return nil, usageErrorf("%s: --auth-mode sms needs --topic-urn (the SMN topic that receives the codes)", c.Command.Name)
	}
	res, err := audit.Run(ctx, audit.Config{Inventory: inv, Hosts: hosts, Scan: opts, Evaluator: ev,
		Cloud: client, Topic: topic, KeepFacts: true})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.Command.Name, err)
	}
	cov := waiverCoverage(c)
	for _, d := range res.Decisions {
		cov.Host(d.Host, d.Labels)
	}
	warnUnmatchedWaivers(cov)
	return res, nil
}

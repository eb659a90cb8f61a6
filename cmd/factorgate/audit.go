package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/factorgate/factorgate/audit"
	"github.com/factorgate/factorgate/cloud"
)

// runAudit scans the inventory of -i (with the cloud's view when cloud
// credentials are set) and judges every host with the policies of the flags.
func runAudit(ctx context.Context, c *cli.Context) (*audit.Result, error) {
	res, _, err := runAuditMode(ctx, c)
	return res, err
}

// runAuditMode is [runAudit] that also returns the 2FA mode the hosts were
// judged for: --auth-mode, else the auth_mode of --data, else code. The
// SMN topic is checked in that mode, so that sms from --data is judged
// with its topic as sms from --auth-mode is.
func runAuditMode(ctx context.Context, c *cli.Context) (*audit.Result, string, error) {
	inv, hosts, err := loadHosts(c)
	if err != nil {
		return nil, "", err
	}
	opts, err := scanOptionsFromFlags(c)
	if err != nil {
		return nil, "", usageErrorf("%s: %v", c.Command.Name, err)
	}
	ev, err := evaluatorFromFlags(c)
	if err != nil {
		return nil, "", err
	}
	client, err := cloudFromFlags(c)
	if err != nil {
		return nil, "", err
	}
	mode := c.String("auth-mode")
	if mode == "" {
		mode, _ = ev.Params()["auth_mode"].(string)
	}
	if mode == "" {
		mode = cloud.AuthCode
	}
	topic := cloud.TopicOptions{AuthMode: mode, URN: c.String("topic-urn")}
	if topic.AuthMode == cloud.AuthCode && given(c, "topic-urn") {
		return nil, "", usageErrorf("%s: --topic-urn applies to --auth-mode sms only", c.Command.Name)
	}
	if topic.AuthMode == cloud.AuthSMS && topic.URN == "" {
		return nil, "", usageErrorf("%s: --auth-mode sms needs --topic-urn (the SMN topic that receives the codes)", c.Command.Name)
	}
	res, err := audit.Run(ctx, audit.Config{Inventory: inv, Hosts: hosts, Scan: opts, Evaluator: ev,
		Cloud: client, Topic: topic, KeepFacts: true})
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", c.Command.Name, err)
	}
	cov := waiverCoverage(c)
	for _, d := range res.Decisions {
		cov.Host(d.Host, d.Labels)
	}
	warnUnmatchedWaivers(cov)
	return res, mode, nil
}

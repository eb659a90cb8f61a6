package main

import (
	"context"
	"fmt"

	"github.com/factorgate/factorgate/audit"
	"github.com/factorgate/factorgate/cloud"
	"github.com/urfave/cli/v2"
)

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
	if topic.AuthMode == cloud.AuthCode && given(c, "topic-urn") {
		return nil, usageErrorf("%s: --topic-urn applies to --auth-mode sms only", c.Command.Name)
	}
	if topic.AuthMode == cloud.AuthSMS && topic.URN == "" {
		return nil, usageErrorf("%s: --auth-mode sms needs --topic-urn (the SMN topic that receives the codes)", c.Command.Name)
	}
	res, err := audit.Run(ctx, audit.Config{Inventory: inv, Hosts: hosts, Scan: opts, Evaluator: ev,
		Cloud: client, Topic: topic, KeepFacts: true})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.Command.Name, err)
	}
	return res, nil
}

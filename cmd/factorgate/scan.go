package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/urfave/cli/v2"

	"github.com/factorgate/factorgate/cloud"
	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/scanner"
	"github.com/factorgate/factorgate/scanner/inventory"
)

func scanCommand() *cli.Command {
	return &cli.Command{
		Name:  "scan",
		Usage: "collect facts from every server of an inventory",
		Description: "Logs in to each host of the inventory (SSH, or WinRM for Windows), runs one read-only\n" +
			"probe and writes one JSON object of facts per host, as each finishes. An unreachable host\n" +
			"is a fact too (reachable: false): the scan still exits 0. A bad inventory exits 2.",
		ArgsUsage: " ",
		Flags: mergeFlags(scanFlags(), shardFlags(), []cli.Flag{
			outputFlag("write the facts (JSON lines) to `FILE`, replaced atomically when the scan ends (an interrupted scan keeps the hosts already scanned, and exits 2); default stdout"),
			authModeFlag(),
			topicURNFlag(),
		}, cloudFlags()),
		Action: runScan,
	}
}

// scanOptionsFromFlags turns the flags of [scanFlags] into scanner options.
// The progress bar goes to stderr when it is a terminal, except with
// --quiet and for serve. Cloud is left nil.
func scanOptionsFromFlags(c *cli.Context) (scanner.Options, error) {
	o := scanner.Options{
		Concurrency:   c.Int("concurrency"),
		AcceptNew:     c.Bool("accept-new"),
		NoSSHConfig:   c.Bool("no-ssh-config"),
		SSHConfigPath: c.String("ssh-config"),
		Retries:       c.Int("retries"),
		MaxOutput:     c.Int64("max-output"),
		Timeouts: scanner.Timeouts{
			Dial:      c.Duration("timeout-dial"),
			Handshake: c.Duration("timeout-handshake"),
			Probe:     c.Duration("timeout-probe"),
			Host:      c.Duration("timeout-host"),
		},
	}
	if o.Concurrency < 1 {
		return o, fmt.Errorf("--concurrency %d: want 1 or more", o.Concurrency)
	}
	if o.Retries < 0 {
		return o, fmt.Errorf("--retries %d: want 0 or more", o.Retries)
	}
	if o.MaxOutput < 1 {
		return o, fmt.Errorf("--max-output %d: want 1 or more bytes", o.MaxOutput)
	}
	for name, d := range map[string]int64{"timeout-dial": int64(o.Timeouts.Dial), "timeout-handshake": int64(o.Timeouts.Handshake),
		"timeout-probe": int64(o.Timeouts.Probe), "timeout-host": int64(o.Timeouts.Host)} {
		if d <= 0 {
			return o, fmt.Errorf("--%s: want a positive duration such as 10s", name)
		}
	}
	if o.NoSSHConfig && o.SSHConfigPath != "" {
		return o, errors.New("--no-ssh-config and --ssh-config: choose one")
	}
	// serve logs each run instead: a bar would break its log lines.
	if sink := scanProgress(progressTerminal(c.App.ErrWriter, quiet(c) || c.Command.Name == "serve"), logOutOf(c)); sink != nil {
		o.Progress = sink
	}
	return o, nil
}

// loadHosts loads the inventory named by -i and selects the hosts of
// --limit and --shard (see [loadFleet]). Its errors are one line naming FILE:LINE where the file is at
// fault.
func loadHosts(c *cli.Context) (*inventory.Inventory, []inventory.Host, error) {
	return loadFleet(c)
}

func runScan(c *cli.Context) error {
	if c.NArg() > 0 {
		return fmt.Errorf("scan: unexpected argument %q (the inventory goes after -i)", c.Args().First())
	}
	switch mode := c.String("auth-mode"); {
	case mode != "" && mode != cloud.AuthSMS && mode != cloud.AuthCode:
		return usageErrorf("scan: --auth-mode %s: want sms or code", mode)
	case mode == cloud.AuthSMS && c.String("topic-urn") == "":
		return usageErrorf("scan: --auth-mode sms needs --topic-urn (the SMN topic that sends the codes)")
	case mode != cloud.AuthSMS && given(c, "topic-urn"):
		return usageErrorf("scan: --topic-urn applies to --auth-mode sms only")
	}
	inv, hosts, err := loadHosts(c)
	if err != nil {
		return err
	}
	opts, err := scanOptionsFromFlags(c)
	if err != nil {
		return err
	}
	// With cloud credentials, the facts carry the cloud's view too.
	view, err := cloudViewFromFlags(c.Context, c, hosts)
	if err != nil {
		return fmt.Errorf("scan: cloud facts: %w", err)
	}
	if view != nil {
		opts.Cloud = view
	}
	out, commit, abort, err := openOutput(c.String("output"), c.App.Writer)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(c.Context)
	defer cancel()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	var writeErr error
	written, unreachable := 0, 0
	err = scanner.Scan(ctx, hosts, opts, func(f *contract.Facts) {
		if writeErr != nil {
			return
		}
		if writeErr = enc.Encode(f); writeErr != nil {
			cancel()
			return
		}
		written++
		if !f.Reachable {
			unreachable++
		}
	})
	switch {
	case writeErr != nil:
		abort()
		return fmt.Errorf("scan: write facts: %w", writeErr)
	case err != nil && c.Context.Err() != nil:
		// Every line written is a whole Facts object: keep them.
		if c.String("output") == "" || c.String("output") == "-" {
			return fmt.Errorf("scan interrupted after %d of %d hosts", written, len(hosts))
		}
		if written == 0 {
			// Nothing to keep: an earlier FILE is not replaced by an empty one.
			abort()
			return fmt.Errorf("scan interrupted after 0 of %d hosts; %s was left as it was", len(hosts), c.String("output"))
		}
		if cerr := commit(); cerr != nil {
			return fmt.Errorf("scan interrupted after %d of %d hosts; their facts could not be kept: %w", written, len(hosts), cerr)
		}
		return fmt.Errorf("scan interrupted after %d of %d hosts; %s holds the %d scanned", written, len(hosts), c.String("output"), written)
	case err != nil:
		abort()
		return fmt.Errorf("scan: %w", err)
	}
	if err := commit(); err != nil {
		return fmt.Errorf("scan: write facts: %w", err)
	}
	slog.Info("scan done", "inventory", inv.Path, "digest", inv.Digest, "hosts", written, "unreachable", unreachable)
	return nil
}

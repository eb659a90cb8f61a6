package main

import (
	"context"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/factorgate/factorgate/history"
	"github.com/factorgate/factorgate/server"
)

// Environment variables serve reads secrets from, so they stay out of argv.
const (
	envWebhookURL    = "FACTORGATE_WEBHOOK_URL"
	envWebhookSecret = "FACTORGATE_WEBHOOK_SECRET"
)

func serveCommand() *cli.Command {
	// serve takes the flags of an audit, less those of a one-off report.
	flags := mergeFlags([]cli.Flag{
		historyFlag(),
		&cli.StringFlag{Name: "schedule", Value: "@every 6h", Usage: "when to audit: a cron spec ('0 3 * * *', seconds first if six fields) or '@every 6h', '@daily'; 'CRON_TZ=Europe/Paris 0 3 * * *' sets the zone"},
		&cli.BoolFlag{Name: "run-at-start", Value: true, Usage: "audit once at start, without waiting for the first tick (--run-at-start=false to wait)"},
		&cli.StringFlag{Name: "listen", Value: "127.0.0.1:8080", Usage: "serve the reports, /metrics and /healthz on `ADDR`"},
		&cli.StringSliceFlag{Name: "allowed-host", Usage: "answer requests for `HOST` (a name, a port may follow) beside localhost and the --listen address; others get 421 (repeatable)"},
		&cli.StringFlag{Name: "webhook", Usage: "POST drift events (a host entered enabled_ineligible or fell from eligible) as JSON to `URL`; default $" + envWebhookURL + ", which keeps a token out of argv"},
		&cli.StringFlag{Name: "webhook-secret-file", Usage: "sign webhook deliveries (X-Factorgate-Signature: sha256=HMAC of X-Factorgate-Timestamp, \".\" and the body) with the key in `FILE`; default the key in $" + envWebhookSecret},
		&cli.IntFlag{Name: "webhook-attempts", Value: 5, Usage: "give up a webhook delivery after `N` attempts (5xx, 429 and network errors are retried with backoff)"},
		&cli.DurationFlag{Name: "webhook-timeout", Value: 10 * time.Second, Usage: "bound each webhook attempt"},
		&cli.StringFlag{Name: "retention", Usage: "after each run, delete the runs that started more than `AGE` ago (90d, 2w, 36h; the newest finished run is kept); default keep all"},
		&cli.DurationFlag{Name: "shutdown-grace", Value: 30 * time.Second, Usage: "on SIGTERM, let the run in progress finish for this long before it is recorded as interrupted"},
	}, withoutFlags(auditFlags(), "format", "output", "fail-on", "record"))
	return &cli.Command{
		Name:      "serve",
		Usage:     "run audits on a schedule; serve reports, metrics and a drift webhook",
		UsageText: "factorgate serve -i INVENTORY [--schedule '@every 6h'] [--db URL] [--listen 127.0.0.1:8080] [--webhook URL]",
		Description: "Audits the inventory on the schedule (and once at start), never two runs at once,\n" +
			"records each run in the history (--db), and serves:\n" +
			"  /                  the dashboard: latest run, trend of hosts per status, drift\n" +
			"                     events, recent runs with links to their reports\n" +
			"  /runs              the runs as JSON;  /runs/RUN?format=F  one run in any report format\n" +
			"  /runs/RUN/drift    the drift from the run before\n" +
			"  /metrics           Prometheus metrics;  /healthz  200 while the history answers\n" +
			"On SIGTERM the run in progress gets --shutdown-grace to finish, then is recorded\n" +
			"as interrupted, and the HTTP server shuts down gracefully. There is no\n" +
			"authentication: listen on loopback, or behind a proxy that adds it. Requests\n" +
			"whose Host header names neither localhost, the --listen address nor an\n" +
			"--allowed-host get 421, so that no web page can read the reports through DNS\n" +
			"rebinding: behind a proxy or on 0.0.0.0, name the host users type.",
		Flags:  flags,
		Action: serveAction,
	}
}

func serveAction(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageErrorf("serve: unexpected argument %q", c.Args().First())
	}
	if _, err := server.ParseSchedule(c.String("schedule")); err != nil {
		return usageErrorf("serve: --schedule: %v", err)
	}
	if c.Duration("shutdown-grace") < 0 {
		return usageErrorf("serve: --shutdown-grace must not be negative")
	}
	var retention time.Duration
	if v := c.String("retention"); v != "" {
		var err error
		if retention, err = parseAge(v); err != nil {
			return usageErrorf("serve: --retention %v", err)
		}
	}
	for _, h := range c.StringSlice("allowed-host") {
		if err := server.CheckAllowedHost(h); err != nil {
			return usageErrorf("serve: --allowed-host %q: %v", h, err)
		}
	}
	hook, err := webhookConfig(c)
	if err != nil {
		return err
	}
	log := serveLogger(c)
	// The inventory and the policies are read again at each run, so that
	// edits take effect without a restart; a mistake in them is caught now.
	if _, _, err := loadHosts(c); err != nil {
		return err
	}
	if _, err := evaluatorFromFlags(c); err != nil {
		return err
	}

	store, err := openHistory(c)
	if err != nil {
		return err
	}
	defer store.Close()

	srv, err := server.New(server.Config{
		Audit:         func(ctx context.Context) (*history.Result, error) { return auditForServe(ctx, c) },
		Store:         store,
		Schedule:      c.String("schedule"),
		RunAtStart:    c.Bool("run-at-start"),
		Inventory:     c.String("inventory"),
		ShutdownGrace: c.Duration("shutdown-grace"),
		Retention:     retention,
		Webhook:       hook,
		Logger:        log,
		AllowedHosts:  c.StringSlice("allowed-host"),
	})
	if err != nil {
		return usageErrorf("serve: %v", err)
	}
	ln, err := net.Listen("tcp", c.String("listen"))
	if err != nil {
		return usageErrorf("serve: --listen: %v", err)
	}
	log.Info("factorgate serve", "url", "http://"+ln.Addr().String()+"/", "history", store.Name(), "schedule", c.String("schedule"))
	if a, ok := ln.Addr().(*net.TCPAddr); ok && !a.IP.IsLoopback() {
		log.Warn("listening beyond loopback with no authentication: anyone who reaches " + ln.Addr().String() + " reads the reports")
	}
	return srv.Run(c.Context, ln)
}

// auditForServe is one scheduled run: the same scan and judgement as check -i.
func auditForServe(ctx context.Context, c *cli.Context) (*history.Result, error) {
	res, err := runAudit(ctx, c)
	if err != nil {
		return nil, err
	}
	_, r := res.History("serve")
	return &r, nil
}

// webhookConfig reads the webhook flags and the secrets they point to.
func webhookConfig(c *cli.Context) (server.Webhook, error) {
	url := c.String("webhook")
	if url == "" {
		url = os.Getenv(envWebhookURL)
	}
	h := server.Webhook{URL: url, Attempts: c.Int("webhook-attempts"), Timeout: c.Duration("webhook-timeout")}
	if h.Attempts < 1 {
		return h, usageErrorf("serve: --webhook-attempts must be at least 1")
	}
	if h.Timeout <= 0 {
		return h, usageErrorf("serve: --webhook-timeout must be positive")
	}
	if p := c.String("webhook-secret-file"); p != "" {
		b, err := os.ReadFile(p)
		if err != nil {
			return h, usageErrorf("serve: --webhook-secret-file: %v", err)
		}
		h.Secret = strings.TrimSpace(string(b))
		if h.Secret == "" {
			return h, usageErrorf("serve: --webhook-secret-file %s is empty", p)
		}
	} else {
		h.Secret = os.Getenv(envWebhookSecret)
	}
	if h.URL == "" && h.Secret != "" {
		slog.Warn("a webhook secret is set but no webhook URL: no drift will be posted")
	}
	if h.URL != "" {
		if err := server.CheckWebhookURL(h.URL); err != nil {
			return h, usageErrorf("serve: --webhook: %v", err)
		}
	}
	return h, nil
}

// serveLogger logs at info level unless --log-level says otherwise: a
// daemon's runs are worth a line each.
func serveLogger(c *cli.Context) *slog.Logger {
	for _, cc := range c.Lineage() {
		if slices.Contains(cc.LocalFlagNames(), "log-level") {
			return slog.Default()
		}
	}
	return slog.New(slog.NewTextHandler(c.App.ErrWriter, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

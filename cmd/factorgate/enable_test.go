package main

import (
	"context"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/urfave/cli/v2"

	"github.com/factorgate/factorgate/remediate"

	"github.com/factorgate/factorgate/cloud"
	"github.com/factorgate/factorgate/internal/hsssim"
	"github.com/factorgate/factorgate/internal/testutil"
	"github.com/factorgate/factorgate/scanner/inventory"
)

// TestCloudScript runs the CLI scripts of testdata/cloud, which drive
// enable and disable against the HSS emulator through the `hsssim` command.
func TestCloudScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		UpdateScripts:       testutil.Update(),
		Dir:                 "testdata/cloud",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			if err := scriptSetup(env); err != nil {
				return err
			}
			env.Values[simKey{}] = &simHolder{}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){"hsssim": hsssimCmd},
	})
}

type simKey struct{}

type simHolder struct{ sim *hsssim.Sim }

// Script credentials: fixed so that scripts can search outputs for them.
const (
	scriptAK = "AKSCRIPTTESTKEY00001"
	scriptSK = "SKscriptSecretKeyValue0123456789ABCDEF"
)

// hsssimCmd drives the emulator from a script:
//
//	hsssim start [delay]                 start it; set the credentials and endpoints in the env
//	hsssim host ID NAME [agent] [2fa]    add a host (agent: online, offline, not_installed; 2fa: code, sms)
//	hsssim topic URN confirmed|unconfirmed
//	hsssim fault OP HOSTID STATUS TIMES  inject a fault (HOSTID - for any)
//	hsssim calls ID N                    assert the host was changed N times
//	hsssim setcalls N                    assert N set calls arrived
//	hsssim twofactor ID on|off           assert the host's 2FA
func hsssimCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("hsssim does not take !")
	}
	if len(args) == 0 {
		ts.Fatalf("usage: hsssim start|host|topic|fault|calls|setcalls|twofactor ...")
	}
	h := ts.Value(simKey{}).(*simHolder)
	if args[0] != "start" && h.sim == nil {
		ts.Fatalf("hsssim start first")
	}
	atoi := func(s string) int {
		n, err := strconv.Atoi(s)
		ts.Check(err)
		return n
	}
	switch args[0] {
	case "start":
		var delay time.Duration
		if len(args) > 1 {
			d, err := time.ParseDuration(args[1])
			ts.Check(err)
			delay = d
		}
		ctx, cancel := context.WithCancel(context.Background())
		s, err := hsssim.Start(ctx, hsssim.Config{AK: scriptAK, SK: scriptSK, ProjectID: "0a1b2c3d4e5f60718293a4b5c6d7e8f9", ApplyDelay: delay})
		ts.Check(err)
		ts.Defer(func() { cancel(); s.Close() })
		h.sim = s
		for k, v := range s.Env() {
			ts.Setenv(k, v)
		}
		ts.Setenv("FACTORGATE_API_RETRY_WAIT", "1ms")
	case "host":
		if len(args) < 3 {
			ts.Fatalf("usage: hsssim host ID NAME [agent] [2fa]")
		}
		host := hsssim.Host{ID: args[1], Name: args[2], PrivateIP: "127.0.0.1"}
		if len(args) > 3 {
			host.AgentStatus = args[3]
		}
		h.sim.AddHost(host)
		if len(args) > 4 {
			h.sim.SetTwoFactor(args[1], hsssim.TwoFactor{Enabled: true, AuthType: args[4]})
		}
	case "topic":
		if len(args) != 3 {
			ts.Fatalf("usage: hsssim topic URN confirmed|unconfirmed")
		}
		status := 0
		if args[2] == "confirmed" {
			status = 1
		}
		name := args[1][strings.LastIndex(args[1], ":")+1:]
		h.sim.AddTopic(hsssim.Topic{URN: args[1], Name: name, DisplayName: name,
			Subscriptions: []hsssim.Subscription{{Protocol: "sms", Endpoint: "+10000000000", Status: status}}})
	case "fault":
		if len(args) != 5 {
			ts.Fatalf("usage: hsssim fault OP HOSTID STATUS TIMES")
		}
		id := args[2]
		if id == "-" {
			id = ""
		}
		h.sim.InjectFault(hsssim.Fault{Op: args[1], HostID: id, Status: atoi(args[3]), Times: atoi(args[4])})
	case "calls":
		if got, want := h.sim.Calls(args[1]), atoi(args[2]); got != want {
			ts.Fatalf("host %s changed %d times, want %d", args[1], got, want)
		}
	case "setcalls":
		if got, want := h.sim.SetCalls(), atoi(args[1]); got != want {
			ts.Fatalf("%d set calls, want %d", got, want)
		}
	case "twofactor":
		tf, ok := h.sim.TwoFactor(args[1])
		if !ok {
			ts.Fatalf("no host %s", args[1])
		}
		if tf.Enabled != (args[2] == "on") {
			ts.Fatalf("host %s 2FA = %+v, want %s", args[1], tf, args[2])
		}
	default:
		ts.Fatalf("hsssim: unknown subcommand %q", args[0])
	}
}

// TestEnableExitCodes checks the exit codes enable maps its outcomes to.
func TestEnableExitCodes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sim, err := hsssim.Start(ctx, hsssim.Config{AK: scriptAK, SK: scriptSK, ProjectID: "p1"})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	sim.AddHost(hsssim.Host{ID: "id-ok", Name: "ok"})
	sim.AddHost(hsssim.Host{ID: "id-off", Name: "off", AgentStatus: hsssim.AgentOffline})
	dir := t.TempDir()
	write := func(name, body string) string {
		p := dir + "/" + name
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.jsonl", `{"host":"ok","hss_host_id":"id-ok","status":"eligible","eligible":true}`)
	mixed := write("mixed.jsonl", `{"host":"off","hss_host_id":"id-off","status":"eligible","eligible":true}`)
	dup := write("dup.jsonl", `{"host":"ok","hss_host_id":"id-ok","status":"enabled","eligible":true}`+"\n"+
		`{"host":"ok","hss_host_id":"id-ok","status":"eligible","eligible":true}`)
	for _, k := range []string{"HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "HUAWEICLOUD_SDK_PROJECT_ID", "FACTORGATE_HSS_ENDPOINT", "FACTORGATE_SMN_ENDPOINT"} {
		t.Setenv(k, "")
	}
	tests := []struct {
		name string
		env  bool
		args []string
		want int
	}{
		{"plan", false, []string{"enable", "--decisions", good}, exitOK},
		{"no credentials", false, []string{"enable", "--decisions", good, "--apply"}, exitBroken},
		{"bad batch size", false, []string{"enable", "--decisions", good, "--batch-size", "0"}, exitBroken},
		{"host decided twice", false, []string{"disable", "--decisions", dup}, exitBroken},
		{"applied", true, []string{"enable", "--decisions", good, "--apply", "--poll-interval", "1ms", "--journal", dir + "/j1"}, exitOK},
		{"host failed", true, []string{"enable", "--decisions", mixed, "--apply", "--poll-interval", "1ms", "--journal", dir + "/j2"}, exitGate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.env {
				for k, v := range sim.Env() {
					t.Setenv(k, v)
				}
				t.Setenv("FACTORGATE_API_RETRY_WAIT", "1ms")
			}
			var out, errb strings.Builder
			got := run(context.Background(), append([]string{"factorgate"}, tt.args...), strings.NewReader(""), &out, &errb)
			if got != tt.want {
				t.Errorf("exit = %d, want %d\nstdout:\n%s\nstderr:\n%s", got, tt.want, out.String(), errb.String())
			}
		})
	}
}

// TestCloudViewFromFlags checks the helper the scanning verbs use: no
// credentials, no view; with them, a view of the emulator's hosts.
func TestCloudViewFromFlags(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sim, err := hsssim.Start(ctx, hsssim.Config{AK: scriptAK, SK: scriptSK, ProjectID: "p1"})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	sim.AddHost(hsssim.Host{ID: "id-a", Name: "a", PrivateIP: "127.0.0.1"})
	sim.AddHost(hsssim.Host{ID: "id-b", Name: "b", PrivateIP: "127.0.0.1"})
	hosts := []inventory.Host{{Name: "b", Address: "127.0.0.1"}}
	for _, withCreds := range []bool{false, true} {
		for k, v := range sim.Env() {
			if !withCreds {
				v = ""
			}
			t.Setenv(k, v)
		}
		var view *cloud.View
		app := &cli.App{Flags: cloudFlags(), Action: func(c *cli.Context) error {
			var err error
			view, err = cloudViewFromFlags(c.Context, c, hosts)
			return err
		}}
		if err := app.RunContext(ctx, []string{"x"}); err != nil {
			t.Fatal(err)
		}
		switch {
		case !withCreds && view != nil:
			t.Errorf("a view without credentials")
		case withCreds && (view == nil || view.HostID("b") != "id-b"):
			t.Errorf("view = %+v, want b matched to id-b", view)
		}
	}
}

// TestEnableJSONDocument checks that enable --format json writes one JSON
// document a pipeline can decode, before and after --apply, and nothing
// else on stdout.
func TestEnableJSONDocument(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sim, err := hsssim.Start(ctx, hsssim.Config{AK: scriptAK, SK: scriptSK, ProjectID: "p1"})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	sim.AddHost(hsssim.Host{ID: "id-ok", Name: "ok"})
	sim.AddHost(hsssim.Host{ID: "id-off", Name: "off", AgentStatus: hsssim.AgentOffline})
	for k, v := range sim.Env() {
		t.Setenv(k, v)
	}
	t.Setenv("FACTORGATE_API_RETRY_WAIT", "1ms")
	dir := t.TempDir()
	path := dir + "/d.jsonl"
	if err := os.WriteFile(path, []byte(`{"host":"ok","hss_host_id":"id-ok","status":"eligible","eligible":true}
{"host":"off","hss_host_id":"id-off","status":"eligible","eligible":true}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args    []string
		code    int
		applied bool
		allOK   bool
	}{
		{[]string{"enable", "--decisions", path, "--format", "json"}, exitOK, false, true},
		{[]string{"enable", "--decisions", path, "--format", "json", "--apply", "--poll-interval", "1ms", "--journal", dir + "/j"}, exitGate, true, false},
	} {
		var out, errb strings.Builder
		code := run(ctx, append([]string{"factorgate"}, tt.args...), strings.NewReader(""), &out, &errb)
		if code != tt.code {
			t.Fatalf("%v: exit %d, want %d\n%s", tt.args, code, tt.code, errb.String())
		}
		dec := json.NewDecoder(strings.NewReader(out.String()))
		dec.DisallowUnknownFields()
		var rep remediate.Report
		if err := dec.Decode(&rep); err != nil {
			t.Fatalf("%v: stdout is no report: %v\n%s", tt.args, err, out.String())
		}
		if dec.More() {
			t.Errorf("%v: more than one document on stdout", tt.args)
		}
		if rep.Schema != remediate.ReportSchema || rep.Applied != tt.applied || rep.AllOK != tt.allOK || len(rep.Plan.Changes) != 2 {
			t.Errorf("%v: report = %+v", tt.args, rep)
		}
		if tt.applied {
			outcomes := map[string]remediate.Outcome{}
			for _, h := range rep.Result.Hosts {
				outcomes[h.Host] = h.Outcome
				if h.Outcome == remediate.ResultOK && h.RequestID == "" {
					t.Errorf("%s: ok without a request id", h.Host)
				}
			}
			if outcomes["ok"] != remediate.ResultOK || outcomes["off"] != remediate.ResultFailed || rep.Summary.Failed != 1 {
				t.Errorf("outcomes = %v, summary %+v", outcomes, rep.Summary)
			}
		}
	}
}

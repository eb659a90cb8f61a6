package remediate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/factorgate/factorgate/cloud"
	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/internal/hsssim"
	"github.com/factorgate/factorgate/remediate"
)

const (
	testAK      = "AKREMEDIATETEST00001"
	testSK      = "SKremediateSECRETvalue0123456789abcdef"
	testProject = "fedcba9876543210fedcba9876543210"
)

type fixture struct {
	sim     *hsssim.Sim
	client  *cloud.Client
	ids     map[string]string // host name -> id
	journal string
	out     lineProgress
}

// lineProgress records what an apply tells its [remediate.Progress], one
// line per event.
type lineProgress struct{ bytes.Buffer }

func (p *lineProgress) Changed(done, total, failed int) {
	fmt.Fprintf(p, "changed: %d/%d hosts, %d failed\n", done, total, failed)
}

func (p *lineProgress) Verified(shown, total int, _ time.Duration) {
	fmt.Fprintf(p, "verify: %d/%d hosts show the change\n", shown, total)
}

func (p *lineProgress) Finish() { p.WriteString("finish\n") }

// newFixture starts an emulator holding one host per name, each with a
// decision of the given status.
func newFixture(t *testing.T, delay time.Duration, hosts map[string]hsssim.Host) (*fixture, []contract.Decision) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	sim, err := hsssim.Start(ctx, hsssim.Config{AK: testAK, SK: testSK, ProjectID: testProject, ApplyDelay: delay})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); sim.Close() })
	c, err := cloud.New(cloud.Credentials{AK: testAK, SK: testSK, ProjectID: testProject},
		cloud.Options{HSSEndpoint: sim.URL(), SMNEndpoint: sim.URL(), Retries: 3, RetryWait: time.Millisecond, MaxRetryWait: 2 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{sim: sim, client: c, ids: map[string]string{}, journal: filepath.Join(t.TempDir(), "journal.jsonl")}
	var ds []contract.Decision
	for name, h := range hosts {
		h.Name = name
		id := sim.AddHost(h)
		f.ids[name] = id
		ds = append(ds, contract.Decision{Host: name, HSSHostID: contract.Ptr(id), Auth: contract.Ptr("publickey"),
			Status: contract.StatusEligible, Eligible: true, Violations: []contract.Finding{}, Warnings: []contract.Finding{}})
	}
	return f, ds
}

func (f *fixture) opts() remediate.Options {
	return remediate.Options{Action: remediate.Enable, AuthType: cloud.AuthCode, BatchSize: 2, MaxFailures: -1,
		VerifyTimeout: 5 * time.Second, PollInterval: 5 * time.Millisecond, Progress: &f.out}
}

func (f *fixture) apply(t *testing.T, ctx context.Context, ds []contract.Decision, opts remediate.Options) (*remediate.Result, error) {
	t.Helper()
	p, err := remediate.NewPlan(ds, opts)
	if err != nil {
		t.Fatal(err)
	}
	j, err := remediate.CreateJournal(f.journal)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	return remediate.Apply(ctx, f.client, p, j, opts)
}

func outcomes(r *remediate.Result) string {
	var parts []string
	for _, h := range r.Hosts {
		parts = append(parts, h.Host+"="+string(h.Outcome))
	}
	return strings.Join(parts, " ")
}

func fiveHosts() map[string]hsssim.Host {
	m := map[string]hsssim.Host{}
	for i := 1; i <= 5; i++ {
		m[fmt.Sprintf("web-%d", i)] = hsssim.Host{PrivateIP: fmt.Sprintf("10.0.0.%d", i)}
	}
	return m
}

func TestApplyAndVerify(t *testing.T) {
	f, ds := newFixture(t, 30*time.Millisecond, fiveHosts())
	r, err := f.apply(t, context.Background(), ds, f.opts())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := outcomes(r), "web-1=ok web-2=ok web-3=ok web-4=ok web-5=ok"; got != want {
		t.Fatalf("outcomes = %s, want %s\n%s", got, want, f.out.String())
	}
	for name, id := range f.ids {
		if n := f.sim.Calls(id); n != 1 {
			t.Errorf("%s enabled %d times, want 1", name, n)
		}
		if tf, _ := f.sim.TwoFactor(id); !tf.Enabled || tf.AuthType != "code" {
			t.Errorf("%s 2FA = %+v", name, tf)
		}
	}
	if n := f.sim.SetCalls(); n != 3 {
		t.Errorf("set calls = %d, want 3 batches of at most 2", n)
	}
	for _, want := range []string{"changed: 0/5 hosts, 0 failed\n", "changed: 4/5 hosts, 0 failed\n", "changed: 5/5 hosts, 0 failed\n", "verify: 5/5 hosts show the change\nfinish\n"} {
		if !strings.Contains(f.out.String(), want) {
			t.Errorf("progress lacks %q:\n%s", want, f.out.String())
		}
	}
	entries, err := remediate.ReadJournal(f.journal)
	if err != nil {
		t.Fatal(err)
	}
	// plan + (pending, ok) per host + verify per host.
	if len(entries) != 1+5*2+5 {
		t.Errorf("journal has %d entries, want 16", len(entries))
	}
	for _, e := range entries[1:] {
		if e.Action == "enable" && e.Outcome == "ok" && len(e.RequestID) != 32 {
			t.Errorf("journal ok entry without the request id: %+v", e)
		}
	}
}

func TestPlanChangesNothing(t *testing.T) {
	f, ds := newFixture(t, 0, fiveHosts())
	p, err := remediate.NewPlan(ds, f.opts())
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := p.Render(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "Plan: 5 to enable, 0 left alone.") {
		t.Errorf("plan:\n%s", b.String())
	}
	if n := f.sim.SetCalls(); n != 0 {
		t.Errorf("a plan made %d set calls", n)
	}
}

func TestResumeAfterInterruption(t *testing.T) {
	f, ds := newFixture(t, 20*time.Millisecond, fiveHosts())
	opts := f.opts()
	opts.AfterBatch = func(b int) error {
		if b == 1 {
			return errors.New("killed")
		}
		return nil
	}
	_, err := f.apply(t, context.Background(), ds, opts)
	if !errors.Is(err, remediate.ErrInterrupted) {
		t.Fatalf("err = %v, want ErrInterrupted", err)
	}
	if n := f.sim.SetCalls(); n != 1 {
		t.Fatalf("set calls before resume = %d, want 1", n)
	}
	opts.AfterBatch = nil
	r, err := remediate.Resume(context.Background(), f.client, f.journal, f.opts())
	if err != nil {
		t.Fatal(err)
	}
	if r.Failed() != 0 {
		t.Fatalf("outcomes after resume = %s", outcomes(r))
	}
	for name, id := range f.ids {
		if n := f.sim.Calls(id); n != 1 {
			t.Errorf("%s enabled %d times, want exactly 1", name, n)
		}
	}
}

// TestResumeAfterCancel cancels the apply's context after its first batch,
// as Ctrl-C would: the next batch is journaled pending and never sent, and
// the resume sends it once.
func TestResumeAfterCancel(t *testing.T) {
	f, ds := newFixture(t, 0, fiveHosts())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := f.opts()
	opts.AfterBatch = func(b int) error {
		if b == 1 {
			cancel()
		}
		return nil
	}
	_, err := f.apply(t, ctx, ds, opts)
	if !errors.Is(err, remediate.ErrInterrupted) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want ErrInterrupted from the cancelled context", err)
	}
	if n := f.sim.SetCalls(); n != 1 {
		t.Fatalf("set calls before resume = %d, want 1", n)
	}
	r, err := remediate.Resume(context.Background(), f.client, f.journal, f.opts())
	if err != nil {
		t.Fatal(err)
	}
	if r.Failed() != 0 {
		t.Fatalf("outcomes after resume = %s", outcomes(r))
	}
	for name, id := range f.ids {
		if n := f.sim.Calls(id); n != 1 {
			t.Errorf("%s enabled %d times, want exactly 1", name, n)
		}
	}
}

// crashAfterCall lets the set call reach the API, then cancels, as a crash
// between the call and its journal entry would.
type crashAfterCall struct {
	remediate.API
	cancel context.CancelFunc
	after  int
	n      int
}

func (c *crashAfterCall) SetTwoFactor(ctx context.Context, cfg cloud.TwoFactorConfig) (string, error) {
	rid, err := c.API.SetTwoFactor(ctx, cfg)
	c.n++
	if c.n == c.after {
		c.cancel()
		return "", context.Canceled
	}
	return rid, err
}

func TestResumePendingCall(t *testing.T) {
	f, ds := newFixture(t, 0, fiveHosts())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p, _ := remediate.NewPlan(ds, f.opts())
	j, err := remediate.CreateJournal(f.journal)
	if err != nil {
		t.Fatal(err)
	}
	_, err = remediate.Apply(ctx, &crashAfterCall{API: f.client, cancel: cancel, after: 2}, p, j, f.opts())
	j.Close()
	if !errors.Is(err, remediate.ErrInterrupted) {
		t.Fatalf("err = %v, want ErrInterrupted", err)
	}
	entries, _ := remediate.ReadJournal(f.journal)
	last := entries[len(entries)-1]
	if last.Outcome != remediate.OutcomePending {
		t.Fatalf("last journal entry = %+v, want pending", last)
	}
	r, err := remediate.Resume(context.Background(), f.client, f.journal, f.opts())
	if err != nil {
		t.Fatal(err)
	}
	if r.Failed() != 0 {
		t.Fatalf("outcomes = %s", outcomes(r))
	}
	for name, id := range f.ids {
		if n := f.sim.Calls(id); n != 1 {
			t.Errorf("%s enabled %d times, want exactly 1", name, n)
		}
	}
	if !strings.Contains(readFile(t, f.journal), "the interrupted call went through") {
		t.Errorf("journal does not say the pending call was found done")
	}
}

func TestFaultsArePerHost(t *testing.T) {
	hosts := map[string]hsssim.Host{
		"a-ok":      {},
		"b-noagent": {AgentStatus: hsssim.AgentNotInstalled},
		"c-offline": {AgentStatus: hsssim.AgentOffline},
		"d-429":     {},
		"e-500":     {},
		"f-ok":      {},
	}
	f, ds := newFixture(t, 0, hosts)
	f.sim.InjectFault(hsssim.Fault{Op: hsssim.OpSetTwoFactorLoginConfig, HostID: f.ids["d-429"], Status: 429, Times: 2})
	f.sim.InjectFault(hsssim.Fault{Op: hsssim.OpSetTwoFactorLoginConfig, HostID: f.ids["e-500"], Status: 500, Times: 100})
	opts := f.opts()
	opts.BatchSize = 6
	r, err := f.apply(t, context.Background(), ds, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := outcomes(r), "a-ok=ok b-noagent=failed c-offline=failed d-429=ok e-500=failed f-ok=ok"; got != want {
		t.Fatalf("outcomes = %s\nwant       %s\n%s", got, want, f.out.String())
	}
	wantErr := map[string]string{"b-noagent": "HSS.1001", "c-offline": "HSS.1007", "e-500": "HTTP 500"}
	for _, h := range r.Hosts {
		if w := wantErr[h.Host]; w != "" && (!strings.Contains(h.Error, w) || !strings.Contains(h.Error, "request id")) {
			t.Errorf("%s error = %q, want %s with a request id", h.Host, h.Error, w)
		}
		if n := f.sim.Calls(f.ids[h.Host]); h.Outcome == "ok" && n != 1 {
			t.Errorf("%s enabled %d times", h.Host, n)
		}
	}
	res, _ := json.Marshal(r)
	for _, text := range []string{string(res), f.out.String(), readFile(t, f.journal)} {
		if strings.Contains(text, testAK) || strings.Contains(text, testSK) {
			t.Errorf("a key shows in the output:\n%s", text)
		}
	}
}

func TestMaxFailuresStops(t *testing.T) {
	hosts := map[string]hsssim.Host{}
	for i := 1; i <= 6; i++ {
		hosts[fmt.Sprintf("h%d", i)] = hsssim.Host{AgentStatus: hsssim.AgentOffline}
	}
	f, ds := newFixture(t, 0, hosts)
	opts := f.opts()
	opts.BatchSize, opts.MaxFailures = 1, 1
	r, err := f.apply(t, context.Background(), ds, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := outcomes(r), "h1=failed h2=failed h3=not_attempted h4=not_attempted h5=not_attempted h6=not_attempted"; got != want || !r.Stopped {
		t.Fatalf("outcomes = %s (stopped %v), want %s", got, r.Stopped, want)
	}
}

func TestVerifyTimeout(t *testing.T) {
	f, ds := newFixture(t, time.Hour, map[string]hsssim.Host{"slow": {}})
	opts := f.opts()
	opts.VerifyTimeout = 30 * time.Millisecond
	r, err := f.apply(t, context.Background(), ds, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := outcomes(r); got != "slow=unverified" || !strings.Contains(r.Hosts[0].Error, "not verified") {
		t.Fatalf("outcomes = %s (%s)", got, r.Hosts[0].Error)
	}
}

func TestDisable(t *testing.T) {
	f, ds := newFixture(t, 10*time.Millisecond, map[string]hsssim.Host{"on": {}, "on-bad": {}, "off": {}})
	f.sim.SetTwoFactor(f.ids["on"], hsssim.TwoFactor{Enabled: true, AuthType: "code"})
	f.sim.SetTwoFactor(f.ids["on-bad"], hsssim.TwoFactor{Enabled: true, AuthType: "code"})
	for i := range ds {
		switch ds[i].Host {
		case "on":
			ds[i].Status = contract.StatusEnabled
		case "on-bad":
			ds[i].Status, ds[i].Eligible = contract.StatusEnabledIneligible, false
		}
	}
	opts := f.opts()
	opts.Action = remediate.Disable
	r, err := f.apply(t, context.Background(), ds, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := outcomes(r); got != "on=ok on-bad=ok" {
		t.Fatalf("outcomes = %s", got)
	}
	for _, n := range []string{"on", "on-bad"} {
		if tf, _ := f.sim.TwoFactor(f.ids[n]); tf.Enabled {
			t.Errorf("%s still has 2FA on", n)
		}
	}
	if f.sim.Calls(f.ids["off"]) != 0 {
		t.Errorf("disable touched a host with 2FA off")
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestEnableReplacesOtherSetting checks that a host found with 2FA already
// on, but with another auth type or another SMN topic than the plan's, is
// not taken as already in place: its codes would go elsewhere. It is
// changed, and its result says what was replaced; a host that shows the
// plan's setting is left as it is.
func TestEnableReplacesOtherSetting(t *testing.T) {
	const topic, other = "urn:smn:eu-de:p:ops", "urn:smn:eu-de:p:old"
	tests := []struct {
		name      string
		authType  string
		current   hsssim.TwoFactor
		wantCalls int
		wantNote  string
	}{
		{"other topic", cloud.AuthSMS, hsssim.TwoFactor{Enabled: true, AuthType: "sms", TopicURN: other},
			1, "replaced 2FA that was on with auth type sms, topic " + other},
		{"code, plan sms", cloud.AuthSMS, hsssim.TwoFactor{Enabled: true, AuthType: "code"},
			1, "replaced 2FA that was on with auth type code"},
		{"sms, plan code", cloud.AuthCode, hsssim.TwoFactor{Enabled: true, AuthType: "sms", TopicURN: topic},
			1, "replaced 2FA that was on with auth type sms, topic " + topic},
		{"same topic", cloud.AuthSMS, hsssim.TwoFactor{Enabled: true, AuthType: "sms", TopicURN: topic},
			0, "already in place"},
		{"same code", cloud.AuthCode, hsssim.TwoFactor{Enabled: true, AuthType: "code"},
			0, "already in place"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, ds := newFixture(t, 0, map[string]hsssim.Host{"web-1": {}})
			f.sim.AddTopic(hsssim.Topic{URN: topic, Name: "ops"})
			f.sim.AddTopic(hsssim.Topic{URN: other, Name: "old"})
			id := f.ids["web-1"]
			f.sim.SetTwoFactor(id, tt.current)
			opts := f.opts()
			opts.AuthType, opts.TopicURN = tt.authType, topic
			r, err := f.apply(t, context.Background(), ds, opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := outcomes(r); got != "web-1=ok" {
				t.Fatalf("outcomes = %s\n%s", got, f.out.String())
			}
			if n := f.sim.Calls(id); n != tt.wantCalls {
				t.Errorf("host changed %d times, want %d", n, tt.wantCalls)
			}
			if r.Hosts[0].Note != tt.wantNote {
				t.Errorf("note = %q, want %q", r.Hosts[0].Note, tt.wantNote)
			}
			tf, _ := f.sim.TwoFactor(id)
			wantTopic := ""
			if tt.authType == cloud.AuthSMS {
				wantTopic = topic
			}
			if !tf.Enabled || tf.AuthType != tt.authType || tf.TopicURN != wantTopic {
				t.Errorf("2FA after enable = %+v, want %s with topic %q", tf, tt.authType, wantTopic)
			}
		})
	}
}

package main

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/factorgate/factorgate/internal/fleetsim"
	"github.com/factorgate/factorgate/internal/hsssim"
	"github.com/factorgate/factorgate/internal/lab"
	"github.com/factorgate/factorgate/internal/testutil"
)

// TestLabScript runs the CLI scripts of testdata/lab against a simulated
// estate (SSH and WinRM servers and the HSS emulator) that the `lab`
// command starts in the test process.
func TestLabScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		UpdateScripts:       testutil.Update(),
		Dir:                 "testdata/lab",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			if err := scriptSetup(env); err != nil {
				return err
			}
			env.Values[labKey{}] = &labHolder{}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){"lab": labCmd},
	})
}

type labKey struct{}

type labHolder struct{ l *lab.Lab }

// labCmd drives a simulated estate from a script:
//
//	lab start [windows]          start centos7-a, debian10-a, rhel8-a, noagent-a and
//	                             refused-a over SSH (and two WinRM hosts); write
//	                             $WORK/lab/inventory.yaml; set the credentials in the env
//	lab calls HOST N             assert HSS changed HOST's 2FA N times
//	lab protection HOST STATUS   set HOST's protection status in HSS
//	lab secrets FILE...          assert no lab secret appears in the files
func labCmd(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) == 0 {
		ts.Fatalf("usage: lab start|calls|protection|secrets ...")
	}
	h := ts.Value(labKey{}).(*labHolder)
	if args[0] != "start" && h.l == nil {
		ts.Fatalf("lab start first")
	}
	switch args[0] {
	case "start":
		windows := 0
		if len(args) > 1 {
			n, err := strconv.Atoi(args[1])
			ts.Check(err)
			windows = n
		}
		ctx, cancel := context.WithCancel(context.Background())
		l, err := lab.Start(ctx, lab.Config{
			Hosts: []fleetsim.HostSpec{
				{Name: "centos7-a", Profile: fleetsim.CentOS7},
				{Name: "debian10-a", Profile: fleetsim.Debian10},
				{Name: "rhel8-a", Profile: fleetsim.RHEL8},
				{Name: "noagent-a", Profile: fleetsim.NoAgent},
				{Name: "refused-a", Profile: fleetsim.AuthRefused},
			},
			Windows: windows, Unmanaged: 1, ApplyDelay: 200 * time.Millisecond,
			Dir: ts.MkAbs("lab"),
		})
		if err != nil {
			cancel()
			ts.Fatalf("lab: %v", err)
		}
		ts.Defer(func() { l.Close(); cancel() })
		h.l = l
		for _, kv := range l.Env() {
			k, v, _ := strings.Cut(kv, "=")
			ts.Setenv(k, v)
		}
		ts.Setenv("FACTORGATE_API_RETRY_WAIT", "1ms")
	case "calls":
		n, err := strconv.Atoi(args[2])
		ts.Check(err)
		if got := h.l.HSS.Calls(h.l.HostIDs[args[1]]); (got == n) == neg {
			ts.Fatalf("%s changed %d times, want %d", args[1], got, n)
		}
	case "protection":
		if !h.l.HSS.UpdateHost(h.l.HostIDs[args[1]], func(x *hsssim.Host) { x.ProtectStatus = args[2] }) {
			ts.Fatalf("no host %s", args[1])
		}
	case "secrets":
		for _, f := range args[1:] {
			body := ts.ReadFile(f)
			for _, k := range []string{"HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", lab.WinRMPasswordEnv} {
				if v := h.l.Getenv(k); v != "" && strings.Contains(body, v) {
					ts.Fatalf("%s holds the value of %s", f, k)
				}
			}
		}
	default:
		ts.Fatalf("lab: unknown subcommand %q", args[0])
	}
}

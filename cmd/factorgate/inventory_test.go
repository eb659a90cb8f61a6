package main

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/factorgate/factorgate/internal/hsssim"
)

// TestInventoryCloudScript runs the scripts of testdata/inventory_cloud:
// inventories that discover their hosts in HSS, against the HSS emulator
// (the `hsssim` command of the cloud scripts, and `hssfleet`).
func TestInventoryCloudScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/inventory_cloud",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			if err := scriptSetup(env); err != nil {
				return err
			}
			env.Values[simKey{}] = &simHolder{}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){"hsssim": hsssimCmd, "hssfleet": hssFleetCmd},
	})
}

// hssFleetCmd fills the emulator (after `hsssim start`) with a fleet:
//
//	hssfleet add N        add N hosts node-001..: private IP 10.1.x.y, a public IP on
//	                      every third, Windows every tenth, agent offline every seventh
//	hssfleet requests OP N assert N requests of operation OP arrived
func hssFleetCmd(ts *testscript.TestScript, neg bool, args []string) {
	h := ts.Value(simKey{}).(*simHolder)
	if h.sim == nil {
		ts.Fatalf("hsssim start first")
	}
	if len(args) < 2 {
		ts.Fatalf("usage: hssfleet add N | hssfleet requests OP N")
	}
	switch args[0] {
	case "add":
		n, err := strconv.Atoi(args[1])
		ts.Check(err)
		for i := 1; i <= n; i++ {
			host := hsssim.Host{ID: fmt.Sprintf("hss-node-%03d", i), Name: fmt.Sprintf("node-%03d", i),
				PrivateIP: fmt.Sprintf("10.1.%d.%d", i/250, i%250+1), OSType: "Linux", AgentStatus: "online",
				ProtectStatus: "opened", HostStatus: "ACTIVE"}
			if i%3 == 0 {
				host.PublicIP = fmt.Sprintf("203.0.%d.%d", 113+i/250, i%250+1)
			}
			if i%10 == 0 {
				host.OSType = "Windows"
			}
			if i%7 == 0 {
				host.AgentStatus = "offline"
			}
			h.sim.AddHost(host)
		}
	case "requests":
		if len(args) != 3 {
			ts.Fatalf("usage: hssfleet requests OP N")
		}
		n, err := strconv.Atoi(args[2])
		ts.Check(err)
		if got := h.sim.Requests(args[1]); (got == n) == neg {
			ts.Fatalf("%d %s requests, want %d", got, args[1], n)
		}
	default:
		ts.Fatalf("hssfleet: unknown subcommand %q", args[0])
	}
}

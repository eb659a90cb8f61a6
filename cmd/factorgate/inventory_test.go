package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/factorgate/factorgate/internal/fleetsim"
	"github.com/factorgate/factorgate/internal/hsssim"
	"github.com/factorgate/factorgate/internal/lab"
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

// TestCheckAnsibleInventory scans a simulated estate (SSH and WinRM hosts,
// HSS) twice: once from the factorgate inventory the lab writes, once from
// an Ansible YAML inventory of the same hosts in two groups. The verdicts
// are the same, and --limit group=windows picks the Windows hosts.
func TestCheckAnsibleInventory(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l, err := lab.Start(ctx, lab.Config{
		Hosts:   []fleetsim.HostSpec{{Name: "centos7-a", Profile: fleetsim.CentOS7}, {Name: "rhel8-a", Profile: fleetsim.RHEL8}},
		Windows: 2, Dir: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, kv := range l.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	t.Setenv("FACTORGATE_API_RETRY_WAIT", "1ms")

	var inv strings.Builder
	fmt.Fprintf(&inv, "all:\n  children:\n    linux:\n      vars:\n        ansible_user: %s\n        ansible_ssh_private_key_file: %s\n        factorgate_known_hosts: %s\n      hosts:\n",
		l.Fleet.User(), l.Fleet.IdentityPath(), l.Fleet.KnownHostsPath())
	for _, h := range l.Fleet.Hosts() {
		fmt.Fprintf(&inv, "        %s: {ansible_host: %s, ansible_port: %d}\n", h.Name, h.Address, h.Port)
	}
	fmt.Fprintf(&inv, "    windows:\n      vars:\n        ansible_connection: winrm\n        ansible_user: Administrator\n"+
		"        ansible_password: \"{{ lookup('env', '%s') }}\"\n        ansible_winrm_scheme: https\n        ansible_winrm_ca_trust_path: %s\n      hosts:\n",
		lab.WinRMPasswordEnv, l.WinRM.CAFile())
	for _, h := range l.WinRM.Hosts() {
		fmt.Fprintf(&inv, "        %s: {ansible_host: %s, ansible_port: %d}\n", h.Name, h.Address, h.Port)
	}
	ansible := filepath.Join(t.TempDir(), "hosts.yml")
	if err := os.WriteFile(ansible, []byte(inv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	verdicts := func(args ...string) map[string]string {
		t.Helper()
		var out, errb bytes.Buffer
		code := run(ctx, append([]string{"factorgate", "check", "--format", "jsonl", "--fail-on", "none", "--no-ssh-config"}, args...), nil, &out, &errb)
		if code != 0 {
			t.Fatalf("check %v: exit %d: %s", args, code, errb.String())
		}
		got := map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			var d struct{ Host, Status string }
			if err := json.Unmarshal([]byte(line), &d); err != nil {
				t.Fatalf("%v: %q", err, line)
			}
			got[d.Host] = d.Status
		}
		return got
	}
	want := verdicts("-i", l.InventoryPath)
	got := verdicts("-i", ansible)
	if len(want) != 4 || !maps.Equal(got, want) {
		t.Errorf("from the Ansible inventory %v\nfrom the factorgate inventory %v", got, want)
	}
	for host, status := range want {
		if status == "unreachable" {
			t.Errorf("%s unreachable: the comparison proves nothing", host)
		}
	}
	win := verdicts("-i", ansible, "--limit", "group=windows")
	if len(win) != 2 {
		t.Errorf("--limit group=windows: %v", win)
	}
	for host := range win {
		if !strings.HasPrefix(host, "win-") {
			t.Errorf("--limit group=windows chose %s", host)
		}
	}
}

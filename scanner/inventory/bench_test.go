package inventory

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/factorgate/factorgate/contract"
)

// BenchmarkLoadAnsibleVsYAML loads the same fleet of 10,000 hosts as an
// Ansible INI inventory (100 groups under two parents, [group:vars] and a
// group_vars/ file per group) and as a factorgate YAML inventory, in the
// same run, and reports ms per load of each and their ratio (ansible/yaml).
//
//	go test -run '^$' -bench LoadAnsibleVsYAML -benchtime 5x ./scanner/inventory/
func BenchmarkLoadAnsibleVsYAML(b *testing.B) {
	const hosts, groups = 10000, 100
	dir := b.TempDir()
	var ini, yml strings.Builder
	yml.WriteString("defaults:\n  ssh: {user: ops, port: 22}\nhosts:\n")
	for g := range groups {
		fmt.Fprintf(&ini, "[g%03d]\n", g)
		for i := range hosts / groups {
			n := g*hosts/groups + i
			fmt.Fprintf(&ini, "host-%05d ansible_host=10.%d.%d.%d\n", n, n/65536, n/256%256, n%256)
			fmt.Fprintf(&yml, "  - {name: host-%05d, address: 10.%d.%d.%d, labels: {group.g%03d: \"true\"}}\n", n, n/65536, n/256%256, n%256, g)
		}
		fmt.Fprintf(&ini, "[g%03d:vars]\nansible_user=ops\n", g)
		if err := os.MkdirAll(filepath.Join(dir, "group_vars"), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "group_vars", fmt.Sprintf("g%03d.yml", g)), []byte("ansible_port: 22\n"), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	ini.WriteString("[even:children]\n")
	for g := 0; g < groups; g += 2 {
		fmt.Fprintf(&ini, "g%03d\n", g)
	}
	iniPath, ymlPath := filepath.Join(dir, "hosts"), filepath.Join(dir, "fleet.yaml")
	if err := os.WriteFile(iniPath, []byte(ini.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(ymlPath, []byte(yml.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	load := func(path string) time.Duration {
		start := time.Now()
		inv, err := Load(path)
		if err != nil {
			b.Fatal(err)
		}
		if len(inv.Hosts) != hosts {
			b.Fatalf("%s: %d hosts", path, len(inv.Hosts))
		}
		return time.Since(start)
	}
	var ta, ty time.Duration
	b.ResetTimer()
	for range b.N {
		ty += load(ymlPath)
		ta += load(iniPath)
	}
	b.ReportMetric(float64(ty.Milliseconds())/float64(b.N), "yaml-ms/load")
	b.ReportMetric(float64(ta.Milliseconds())/float64(b.N), "ansible-ms/load")
	b.ReportMetric(float64(ta)/float64(ty), "ansible/yaml")
}

// BenchmarkResolveHSS resolves a discovered fleet of 20,000 HSS hosts
// against the baseline of parsing a factorgate inventory that writes the
// same hosts out, in the same run, and reports ms of each and their ratio
// (resolve/parse).
//
//	go test -run '^$' -bench ResolveHSS -benchtime 5x ./scanner/inventory/
func BenchmarkResolveHSS(b *testing.B) {
	const n = 20000
	var cloud []contract.CloudHost
	var yml strings.Builder
	yml.WriteString("defaults: {ssh: {user: ops}}\nhosts:\n")
	for i := range n {
		h := contract.CloudHost{HostID: fmt.Sprintf("id-%d", i), HostName: fmt.Sprintf("node-%06d", i),
			PrivateIP: fmt.Sprintf("10.%d.%d.%d", i/65536, i/256%256, i%256), OSType: "Linux", AgentStatus: "online"}
		cloud = append(cloud, h)
		fmt.Fprintf(&yml, "  - {name: %s, address: %s, transport: ssh, os: linux, hss_host_id: %s}\n", h.HostName, h.PrivateIP, h.HostID)
	}
	inv, err := Parse("f.yaml", []byte("defaults: {ssh: {user: ops}}\ndiscover: {hss: {os: linux}}\n"))
	if err != nil {
		b.Fatal(err)
	}
	written := []byte(yml.String())
	var tr, tp time.Duration
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		w, err := Parse("w.yaml", written)
		if err != nil || len(w.Hosts) != n {
			b.Fatalf("%v", err)
		}
		tp += time.Since(start)
		start = time.Now()
		out, err := inv.Resolve(cloud)
		if err != nil || len(out.Hosts) != n {
			b.Fatalf("%v", err)
		}
		tr += time.Since(start)
	}
	b.ReportMetric(float64(tp.Milliseconds())/float64(b.N), "parse-ms")
	b.ReportMetric(float64(tr.Milliseconds())/float64(b.N), "resolve-ms")
	b.ReportMetric(float64(tr)/float64(tp), "resolve/parse")
}

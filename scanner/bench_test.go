package scanner

import (
	"context"
	"os"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/sync/errgroup"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/internal/testutil"
	"github.com/factorgate/factorgate/scanner/inventory"
	"github.com/factorgate/factorgate/scanner/probe"
)

// BenchmarkScanVsBareSSH measures Scan over a fleet of loopback SSH servers
// (x/crypto/ssh servers of this package's tests, answering the probe with a
// captured CentOS 7 output) against the least any scanner must do: a bare
// x/crypto/ssh dial, handshake and one exec per host, at the same
// concurrency, in the same run. It reports hosts/s for each and their ratio
// (scan/bare; 1.0 means Scan costs nothing over the bare loop).
//
//	go test -run '^$' -bench ScanVsBareSSH -benchtime 5x ./scanner/
func BenchmarkScanVsBareSSH(b *testing.B) {
	const hosts, concurrency = 48, 16
	out, err := os.ReadFile("probe/testdata/linux/centos7/probe.out")
	if err != nil {
		out = []byte("factorgate probe output unavailable\n")
	}
	servers := make([]*testutil.SSHServer, hosts)
	for i := range servers {
		servers[i] = testutil.StartSSHServer(b, func(string) ([]byte, uint32) { return out, 0 })
	}
	key := testutil.ClientKeyFile(b)
	kh := testutil.KnownHostsFile(b, servers...)
	fleet := make([]inventory.Host, hosts)
	for i, s := range servers {
		fleet[i] = hostAt("h"+s.Addr, s.Addr, key, kh)
	}
	pem, _ := os.ReadFile(key)
	signer, err := ssh.ParsePrivateKey(pem)
	if err != nil {
		b.Fatal(err)
	}
	opts := Options{Concurrency: concurrency, NoSSHConfig: true, Env: noEnv}
	ctx := context.Background()

	var bare, scan time.Duration
	b.ResetTimer()
	runBare := func() {
		g := new(errgroup.Group)
		g.SetLimit(concurrency)
		for _, s := range servers {
			g.Go(func() error {
				c, err := ssh.Dial("tcp", s.Addr, &ssh.ClientConfig{User: "ops", Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
					HostKeyCallback: ssh.FixedHostKey(s.HostKey), Timeout: 10 * time.Second})
				if err != nil {
					return err
				}
				defer c.Close()
				sess, err := c.NewSession()
				if err != nil {
					return err
				}
				defer sess.Close()
				_, err = sess.Output(probe.Linux)
				return err
			})
		}
		if err := g.Wait(); err != nil {
			b.Fatal(err)
		}
	}
	runScan := func() {
		reached := 0
		if err := Scan(ctx, fleet, opts, func(f *contract.Facts) {
			if f.Reachable {
				reached++
			}
		}); err != nil {
			b.Fatal(err)
		}
		if reached != hosts {
			b.Fatalf("scan reached %d of %d hosts", reached, hosts)
		}
	}
	timed := func(f func()) time.Duration { t := time.Now(); f(); return time.Since(t) }
	for i := range b.N {
		// Alternate which goes first, so neither always meets a warm server.
		if i%2 == 0 {
			bare += timed(runBare)
			scan += timed(runScan)
		} else {
			scan += timed(runScan)
			bare += timed(runBare)
		}
	}
	bareRate := float64(hosts*b.N) / bare.Seconds()
	scanRate := float64(hosts*b.N) / scan.Seconds()
	b.ReportMetric(bareRate, "bare-hosts/s")
	b.ReportMetric(scanRate, "scan-hosts/s")
	b.ReportMetric(scanRate/bareRate, "scan/bare")
	b.Logf("%d hosts, concurrency %d: bare x/crypto/ssh %.0f hosts/s, scanner.Scan %.0f hosts/s, ratio %.2f",
		hosts, concurrency, bareRate, scanRate, scanRate/bareRate)
}

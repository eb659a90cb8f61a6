package scanner

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
	"golang.org/x/sync/errgroup"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/internal/sshdtest"
	"github.com/factorgate/factorgate/scanner/inventory"
	"github.com/factorgate/factorgate/scanner/probe"
)

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkScanVsBareClientRealSSHD scans 50 inventory hosts, 16 at a time,
// all served by Debian's real sshd on loopback, the way `factorgate scan`
// does (Scan, each host's Facts encoded as a JSON line), and in the same
// run does the least any scanner must: a bare x/crypto/ssh client that
// dials, logs in with the key, runs the same probe and reads its output,
// nothing else. It reports both wall times, the client CPU per host of
// each (this process's CPU: sshd's is not counted), and the ratios.
//
//	FACTORGATE_REQUIRE_SSHD=1 go test ./scanner -run '^$' -bench ScanVsBareClientRealSSHD -benchtime 5x
func BenchmarkScanVsBareClientRealSSHD(b *testing.B) {
	const hosts, concurrency = 50, 16
	srv := sshdtest.Start(b, sshdtest.Config{Extra: []string{"MaxStartups 200", "MaxSessions 200"}})
	fleet := make([]inventory.Host, hosts)
	for i := range fleet {
		fleet[i] = sshdHost(srv)
		fleet[i].Name = "h" + strconv.Itoa(i)
	}
	pem, err := os.ReadFile(srv.KeyFile)
	if err != nil {
		b.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey(pem)
	if err != nil {
		b.Fatal(err)
	}
	opts := Options{Concurrency: concurrency, NoSSHConfig: true, Env: noEnv}
	ctx := context.Background()

	runBare := func() {
		// The bare client checks the host key too, against the same file.
		hostKeys, err := knownhosts.New(srv.KnownHosts)
		if err != nil {
			b.Fatal(err)
		}
		g := new(errgroup.Group)
		g.SetLimit(concurrency)
		for range fleet {
			g.Go(func() error {
				c, err := ssh.Dial("tcp", srv.Addr, &ssh.ClientConfig{User: srv.User, Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
					HostKeyCallback: hostKeys, HostKeyAlgorithms: []string{ssh.KeyAlgoED25519}, Timeout: 10 * time.Second})
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
		enc := json.NewEncoder(io.Discard)
		reached := 0
		if err := Scan(ctx, fleet, opts, func(f *contract.Facts) {
			if f.Reachable {
				reached++
			}
			enc.Encode(f)
		}); err != nil {
			b.Fatal(err)
		}
		if reached != hosts {
			b.Fatalf("scan reached %d of %d hosts", reached, hosts)
		}
	}
	var bareWall, scanWall, bareCPU, scanCPU time.Duration
	measure := func(f func(), wall, cpu *time.Duration) {
		c, t := cpuTime(), time.Now()
		f()
		*wall += time.Since(t)
		*cpu += cpuTime() - c
	}
	for i := 0; b.Loop(); i++ {
		// Alternate which goes first, so neither always meets a warm server.
		if i%2 == 0 {
			measure(runBare, &bareWall, &bareCPU)
			measure(runScan, &scanWall, &scanCPU)
		} else {
			measure(runScan, &scanWall, &scanCPU)
			measure(runBare, &bareWall, &bareCPU)
		}
	}
	n := float64(b.N)
	perHost := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / (n * hosts) }
	b.ReportMetric(bareWall.Seconds()/n, "bare-wall-s")
	b.ReportMetric(scanWall.Seconds()/n, "scan-wall-s")
	b.ReportMetric(perHost(bareCPU), "bare-cpu-ms/host")
	b.ReportMetric(perHost(scanCPU), "scan-cpu-ms/host")
	b.ReportMetric(float64(scanWall)/float64(bareWall), "wall-x-bare")
	b.ReportMetric(float64(scanCPU)/float64(bareCPU), "cpu-x-bare")
}

package winrmsim_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/internal/winprofiles"
	"github.com/factorgate/factorgate/internal/winrmsim"
	"github.com/factorgate/factorgate/scanner"
	"github.com/factorgate/factorgate/scanner/inventory"
)

// BenchmarkScanWinRM scans 20 simulated Windows hosts over HTTPS with
// scanner.Scan (dial check, shell, probe, parse) and reports the cost per
// host as a ratio to a baseline measured in the same run: one fresh TLS
// connection and one authenticated POST per host, the floor any WinRM
// scan pays.
func BenchmarkScanWinRM(b *testing.B) {
	const n = 20
	var specs []winrmsim.HostSpec
	for i := range n {
		specs = append(specs, winrmsim.HostSpec{Name: fmt.Sprintf("win-%02d", i), Profile: winprofiles.Server2019})
	}
	sim, err := winrmsim.Start(context.Background(), winrmsim.Config{Hosts: specs, TLS: true, User: "Administrator", Password: "pw"})
	if err != nil {
		b.Fatal(err)
	}
	defer sim.Close()
	var hosts []inventory.Host
	for _, h := range sim.Hosts() {
		hosts = append(hosts, inventory.Host{Name: h.Name, Address: h.Address, Port: h.Port, Transport: inventory.TransportWinRM, OS: "windows",
			WinRM: inventory.WinRMConfig{User: "Administrator", HTTPS: true, CAFile: sim.CAFile(), Auth: "basic", Password: inventory.Secret{Env: "PW"}}})
	}
	opts := scanner.Options{Concurrency: 4, Env: func(string) string { return "pw" }, Timeouts: scanner.Timeouts{Probe: 10 * time.Second}}

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(sim.CAPEM())
	start := time.Now()
	for range b.N {
		for _, h := range sim.Hosts() {
			tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
			req, _ := http.NewRequest(http.MethodPost, "https://127.0.0.1:"+strconv.Itoa(h.Port)+"/wsman", strings.NewReader("<x/>"))
			req.Header.Set("Content-Type", "application/soap+xml")
			req.SetBasicAuth("Administrator", "pw")
			resp, err := (&http.Client{Transport: tr}).Do(req)
			if err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
			tr.CloseIdleConnections()
		}
	}
	base := time.Since(start)

	b.ResetTimer()
	for range b.N {
		ok := 0
		err := scanner.Scan(context.Background(), hosts, opts, func(f *contract.Facts) {
			if f.Reachable && f.Error == nil {
				ok++
			}
		})
		if err != nil || ok != n {
			b.Fatalf("scan: %v, %d of %d hosts scanned", err, ok, n)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/host")
	b.ReportMetric(float64(b.Elapsed())/float64(base), "x-one-post")
}

package scanner_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/scanner"
	"github.com/factorgate/factorgate/scanner/inventory"
)

// ExampleScan streams the facts of a fleet as JSON lines.
func ExampleScan() {
	inv, err := inventory.Load("fleet.yaml")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	hosts, _ := inv.Select(nil)
	enc := json.NewEncoder(os.Stdout)
	opts := scanner.Options{Concurrency: 16}
	err = scanner.Scan(context.Background(), hosts, opts, func(f *contract.Facts) {
		enc.Encode(f) // an unreachable host is a fact too: reachable false, error set
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
}

package scanner_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/scanner"
)

func ExampleLoadInventory() {
	inv, err := scanner.LoadInventory("testdata/inventory/fleet.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	hosts, err := inv.Select([]string{"env=prod"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, h := range hosts {
		fmt.Println(h.Name, h.Address, h.Port, h.SSH.User)
	}
	// Output:
	// web-01 10.0.0.5 22 ops
	// db-01 10.0.1.7 22 dba
}

func ExampleParseInventory() {
	_, err := scanner.ParseInventory("fleet.yaml", []byte("hosts:\n  - name: web-01\n    ssh: {user: ops, password: hunter2}\n"))
	fmt.Println(err)
	// Output:
	// fleet.yaml:3: hosts[0].ssh.password: a password may not be written in the inventory: use password_env (an environment variable) or password_file
}

// ExampleScan streams the facts of a fleet as JSON lines, with a progress
// bar on stderr when it is a terminal.
func ExampleScan() {
	inv, err := scanner.LoadInventory("fleet.yaml")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	hosts, _ := inv.Select(nil)
	enc := json.NewEncoder(os.Stdout)
	opts := scanner.Options{Concurrency: 16, Progress: scanner.NewProgress(os.Stderr)}
	err = scanner.Scan(context.Background(), hosts, opts, func(f *contract.Facts) {
		enc.Encode(f) // an unreachable host is a fact too: reachable false, error set
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
}

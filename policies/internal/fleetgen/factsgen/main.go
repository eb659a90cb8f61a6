// Command factsgen writes a generated fleet of Facts as JSON lines, for
// measuring `factorgate check` on large fleets:
//
//	go run ./policies/internal/fleetgen/factsgen -n 100000 -o /tmp/facts-100k.jsonl
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/factorgate/factorgate/policies/internal/fleetgen"
)

func main() {
	n := flag.Int("n", 10000, "number of hosts")
	out := flag.String("o", "-", "output file, - for stdout")
	flag.Parse()
	if err := run(*n, *out); err != nil {
		fmt.Fprintln(os.Stderr, "factsgen:", err)
		os.Exit(2)
	}
}

func run(n int, out string) error {
	if n <= 0 {
		return fmt.Errorf("-n must be positive, got %d", n)
	}
	var w io.Writer = os.Stdout
	if out != "-" {
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		if err := fleetgen.Write(f, n); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	return fleetgen.Write(w, n)
}

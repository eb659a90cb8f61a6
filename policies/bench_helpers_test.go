package policies

import (
	"encoding/json"
	"io"
	"runtime"

	"github.com/factorgate/factorgate/policies/internal/fleetgen"
)

var errEOF = io.EOF

func workers() int { return runtime.GOMAXPROCS(0) }

// fleetLines returns the generated fleet of n hosts as raw JSON lines.
func fleetLines(n int) ([][]byte, error) {
	out := make([][]byte, n)
	for i := range n {
		b, err := json.Marshal(fleetgen.Host(i, n))
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

package policies

import (
	"io"
	"runtime"
)

var errEOF = io.EOF

func workers() int { return runtime.GOMAXPROCS(0) }

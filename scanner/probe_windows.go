package scanner

import (
	"errors"

	"github.com/factorgate/factorgate/contract"
)

// WindowsProbeCommand is the fixed, read-only PowerShell probe, as one
// command line (an encoded command) for WinRM and for OpenSSH for Windows.
const WindowsProbeCommand = ""

// ParseWindowsProbe fills the Windows sections of f from the probe's output.
func ParseWindowsProbe(out []byte, f *contract.Facts) error {
	return errors.New("windows probe: not implemented")
}

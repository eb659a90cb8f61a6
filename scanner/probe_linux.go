package scanner

import (
	"errors"

	"github.com/factorgate/factorgate/contract"
)

// LinuxProbe is the fixed, read-only script run in one exec on a Linux host.
const LinuxProbe = ""

// ParseLinuxProbe fills the Linux sections of f from the probe's output and
// the SSH banner of the connection.
func ParseLinuxProbe(out []byte, banner string, f *contract.Facts) error {
	return errors.New("linux probe: not implemented")
}

package fleetsim

import (
	"strings"

	"github.com/factorgate/factorgate/internal/winprofiles"
	"github.com/factorgate/factorgate/scanner/probe"
)

// BannerWindows is the banner of the OpenSSH for Windows server that
// Windows Server 2019 and 2022 ship as an optional feature.
const BannerWindows = "SSH-2.0-OpenSSH_for_Windows_8.1"

// WindowsPrefix starts the name of every Windows profile of the fleet:
// "windows-" and the name of the [winprofiles] profile it plays, e.g.
// "windows-server-2019".
const WindowsPrefix = "windows-"

// WindowsAnswer answers exactly probe.WindowsCommand with the given
// output; any other command line gets cmd.exe's "is not recognized" error
// and exit status 1, as OpenSSH for Windows (whose default shell is
// cmd.exe) gives.
func WindowsAnswer(stdout, stderr []byte, exit int) func(cmd string) ([]byte, []byte, int) {
	return func(cmd string) ([]byte, []byte, int) {
		if cmd == probe.WindowsCommand {
			return stdout, stderr, exit
		}
		name := "''"
		if f := strings.Fields(cmd); len(f) > 0 {
			name = f[0]
			if len(name) > 40 {
				name = name[:40]
			}
		}
		return nil, []byte("'" + name + "' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n"), 1
	}
}

// The Windows profiles are those of internal/winprofiles (shared with the
// WinRM emulator), reached over OpenSSH for Windows: same probe output,
// same expected verdict. The slow profile stalls mid-answer here.
func init() {
	for _, p := range winprofiles.All() {
		mode := Normal
		if p.Slow {
			mode = Stall
		}
		Register(Profile{
			Name:        WindowsPrefix + p.Name,
			Description: p.Description + ", over OpenSSH for Windows",
			OS:          "windows",
			Banner:      BannerWindows,
			Answer:      WindowsAnswer(p.Stdout, p.Stderr, p.ExitCode),
			Mode:        mode,
			Expect: Expectation{
				Status:     p.Expect.Status,
				Violations: p.Expect.Violations,
				Warnings:   p.Expect.Warnings,
				Facts:      p.Expect.Facts,
			},
		})
	}
}

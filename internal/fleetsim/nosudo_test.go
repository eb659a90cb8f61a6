package fleetsim

import (
	"bytes"
	"testing"

	"github.com/factorgate/factorgate/scanner/probe"
)

// TestLinuxAnswerNoSudo answers both probes: the one without sudo gets the
// same output less its sshd-T-sudo section.
func TestLinuxAnswerNoSudo(t *testing.T) {
	out := []byte("@@factorgate:linux-probe v1@@\n" +
		"@@factorgate:begin sshd-T@@\n|sshd: no hostkeys available -- exiting.\n@@factorgate:end 1 sshd-T@@\n" +
		"@@factorgate:begin sshd-T-sudo@@\n|passwordauthentication yes\n@@factorgate:end 0 sshd-T-sudo@@\n" +
		"@@factorgate:begin id-u@@\n|1000\n@@factorgate:end 0 id-u@@\n" +
		"@@factorgate:done@@\n")
	want := []byte("@@factorgate:linux-probe v1@@\n" +
		"@@factorgate:begin sshd-T@@\n|sshd: no hostkeys available -- exiting.\n@@factorgate:end 1 sshd-T@@\n" +
		"@@factorgate:begin id-u@@\n|1000\n@@factorgate:end 0 id-u@@\n" +
		"@@factorgate:done@@\n")
	answer := LinuxAnswer(out)
	tests := []struct {
		name string
		cmd  string
		want []byte
	}{
		{"LinuxProbe", probe.Linux, out},
		{"LinuxProbeNoSudo", probe.LinuxNoSudo, want},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, _, exit := answer(tt.cmd)
			if exit != 0 || !bytes.Equal(stdout, tt.want) {
				t.Errorf("exit %d, stdout:\n%s\nwant:\n%s", exit, stdout, tt.want)
			}
		})
	}
}

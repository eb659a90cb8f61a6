package probe

import "testing"

func TestHSSAgentFacts(t *testing.T) {
	const plainProc = "proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0"
	tests := []struct {
		name string
		secs []sec
		want string // installed running
	}{
		{"running", []sec{{"hss-dir", "", 0}, {"hss-procs", "hostwatch\nhostguard", 0}, {"hss-service", "active", 0}}, "yes yes"},
		{"running, no systemd", []sec{{"hss-dir", "", 0}, {"hss-procs", "hostguard", 0}, {"hss-service", "not found", 127}}, "yes yes"},
		{"stopped", []sec{{"hss-dir", "", 0}, {"hss-procs", "", 0}, {"hss-service", "inactive", 3}}, "yes no"},
		{"only the watchdog", []sec{{"id-u", "0", 0}, {"hss-dir", "", 0}, {"hss-procs", "hostwatch", 0}, {"hss-service", "failed", 3}}, "yes no"},
		{"absent, root", []sec{{"id-u", "0", 0}, {"hss-dir", "", 1}, {"hss-procs", "", 0}, {"hss-service", "System has not been booted with systemd", 1}}, "no no"},
		{"absent, user, /proc open", []sec{{"id-u", "1000", 0}, {"hss-dir", "", 1}, {"hss-procs", "", 0}, {"hss-service", "not found", 127}, {"proc-mount", plainProc, 0}}, "no no"},
		{"user behind hidepid, no systemd", []sec{{"id-u", "1000", 0}, {"hss-dir", "", 0}, {"hss-procs", "", 0}, {"hss-service", "not found", 127}, {"proc-mount", "proc /proc proc rw,hidepid=2 0 0", 0}}, "yes null"},
		{"service active behind hidepid", []sec{{"id-u", "1000", 0}, {"hss-dir", "", 0}, {"hss-procs", "", 0}, {"hss-service", "active", 0}, {"proc-mount", "proc /proc proc rw,hidepid=invisible 0 0", 0}}, "yes yes"},
		{"nothing", []sec{{"id-u", "0", 0}}, "null null"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			installed, running := hssAgentFacts(mustSplit(t, tt.secs...))
			if got := lxBool(installed) + " " + lxBool(running); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

package probe

import "testing"

func TestSELinuxFacts(t *testing.T) {
	const cfgDisabled, cfgEnforcing = "# c\nSELINUX=disabled\nSELINUXTYPE=targeted", "SELINUX=enforcing # on"
	tests := []struct {
		name string
		secs []sec
		want string // installed/mode/config_mode source
	}{
		{"enforcing", []sec{{"getenforce", "Enforcing", 0}, {"selinux-enforce", "1", 0}, {"selinuxfs", "", 0}, {"selinux-config", cfgEnforcing, 0}}, "yes/enforcing/enforcing getenforce"},
		{"permissive now", []sec{{"getenforce", "Permissive", 0}, {"selinux-enforce", "0", 0}, {"selinuxfs", "", 0}, {"selinux-config", cfgEnforcing, 0}}, "yes/permissive/enforcing getenforce"},
		{"off now, enforcing at boot", []sec{{"getenforce", "Disabled", 0}, {"selinux-enforce", "", 127}, {"selinuxfs", "", 1}, {"selinux-config", cfgEnforcing, 0}}, "yes/disabled/enforcing getenforce"},
		{"permanently disabled", []sec{{"getenforce", "Disabled", 0}, {"selinux-enforce", "", 127}, {"selinuxfs", "", 1}, {"selinux-config", cfgDisabled, 0}}, "yes/disabled/disabled getenforce"},
		{"no getenforce, selinuxfs says", []sec{{"getenforce", "sh: getenforce: not found", 127}, {"selinux-enforce", "1", 0}, {"selinuxfs", "", 0}, {"selinux-config", "", 127}}, "yes/enforcing/null /sys/fs/selinux/enforce"},
		{"not installed", []sec{{"getenforce", "not found", 127}, {"selinux-enforce", "", 127}, {"selinuxfs", "", 1}, {"selinux-config", "", 127}}, "no/disabled/null not installed"},
		{"config unreadable", []sec{{"getenforce", "Disabled", 0}, {"selinuxfs", "", 1}, {"selinux-config", "Permission denied", 1}}, "yes/disabled/null getenforce"},
		{"getenforce odd, enforce unreadable", []sec{{"getenforce", "???", 0}, {"selinux-enforce", "denied", 1}, {"selinuxfs", "", 0}}, "yes/null/null "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := selinuxFacts(mustSplit(t, tt.secs...))
			mode, cfg := "null", "null"
			if s.Mode != nil {
				mode = *s.Mode
			}
			if s.ConfigMode != nil {
				cfg = *s.ConfigMode
			}
			got := lxBool(s.Installed) + "/" + mode + "/" + cfg + " " + s.Source
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	if s := selinuxFacts(mustSplit(t, sec{"id-u", "0", 0})); s != nil {
		t.Errorf("selinux facts from no selinux sections: %+v", s)
	}
}

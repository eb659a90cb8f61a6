package probe

import (
	"strings"

	"github.com/factorgate/factorgate/contract"
)

// selinuxMode normalises an SELinux mode word, or returns "".
func selinuxMode(s string) string {
	switch m := strings.ToLower(strings.TrimSpace(s)); m {
	case "enforcing", "permissive", "disabled":
		return m
	}
	return ""
}

// parseSELinuxConfig returns the SELINUX= mode of /etc/selinux/config text,
// or "" when the file sets none (or an unknown word).
func parseSELinuxConfig(text string) string {
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if v, ok := strings.CutPrefix(line, "SELINUX="); ok {
			if i := strings.IndexByte(v, '#'); i >= 0 {
				v = v[:i]
			}
			return selinuxMode(strings.Trim(strings.TrimSpace(v), `"'`))
		}
	}
	return ""
}

// selinuxFacts builds the SELinux facts from the getenforce,
// selinux-enforce, selinuxfs and selinux-config sections.
//
// Mode comes from getenforce; without it, from /sys/fs/selinux/enforce (1
// enforcing, 0 permissive), and a kernel with no selinuxfs mounted runs
// without SELinux: disabled. ConfigMode is SELINUX= of /etc/selinux/config,
// nil when the file sets none. Without the file (Ubuntu's selinux-utils
// brings getenforce and no policy) nothing can turn SELinux on at boot:
// when it is installed and disabled now, ConfigMode is "disabled" too; in another mode
// what the next boot brings is unknown (nil). SELinux is not installed when
// there is no getenforce, no selinuxfs and no config file: that is
// {installed: false, mode: "disabled"}.
func selinuxFacts(p *probeOutput) *contract.SELinux {
	ge := p.section("getenforce")
	enf := p.section("selinux-enforce")
	fs := p.section("selinuxfs")
	cfg := p.section("selinux-config")
	if ge == nil && enf == nil && fs == nil && cfg == nil {
		return nil // the probe never got here
	}
	s := &contract.SELinux{}
	var geMissing, fsMissing, cfgMissing bool
	if ge != nil {
		geMissing = ge.rc == 127
		if ge.rc == 0 {
			if m := selinuxMode(lxFirstLine(ge.text)); m != "" {
				s.Mode, s.Source = &m, "getenforce"
			}
		}
	}
	if fs != nil {
		fsMissing = fs.rc == 1
	}
	if cfg != nil {
		cfgMissing = cfg.rc == 127
		if cfg.rc == 0 {
			if m := parseSELinuxConfig(cfg.text); m != "" {
				s.ConfigMode = &m
			}
		}
	}
	if s.Mode == nil && enf != nil && enf.rc == 0 {
		switch strings.TrimSpace(enf.text) {
		case "1":
			s.Mode, s.Source = contract.Ptr("enforcing"), "/sys/fs/selinux/enforce"
		case "0":
			s.Mode, s.Source = contract.Ptr("permissive"), "/sys/fs/selinux/enforce"
		}
	}
	if s.Mode == nil && fsMissing {
		s.Mode, s.Source = contract.Ptr("disabled"), "no selinuxfs"
	}
	switch {
	case geMissing && fsMissing && cfgMissing:
		s.Installed = contract.Ptr(false)
		s.Mode, s.Source = contract.Ptr("disabled"), "not installed"
	case (ge != nil && !geMissing) || (fs != nil && fs.rc == 0) || (cfg != nil && cfg.rc == 0):
		s.Installed = contract.Ptr(true)
		if cfgMissing && s.Mode != nil && *s.Mode == "disabled" {
			s.ConfigMode = contract.Ptr("disabled")
		}
	}
	return s
}

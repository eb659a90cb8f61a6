package probe

import (
	"strings"
	"testing"

	"github.com/factorgate/factorgate/contract"
)

// addCaptureSeeds seeds f with every captured probe output.
func addCaptureSeeds(f *testing.F, add func(out []byte, banner string)) {
	for _, system := range probeCaptures(f) {
		out, banner := readCapture(f, system)
		add(out, banner)
	}
}

// FuzzParseLinuxProbe feeds arbitrary output and banners to the parser: it
// must not panic, must return an error or facts, and every fact it returns
// must be a value the contract allows.
func FuzzParseLinuxProbe(f *testing.F) {
	addCaptureSeeds(f, func(out []byte, banner string) { f.Add(out, banner) })
	f.Add([]byte(probeHeader+"\n"), "")
	f.Add([]byte("garbage"), "SSH-2.0-OpenSSH_7.4")
	f.Fuzz(func(t *testing.T, out []byte, banner string) {
		var facts contract.Facts
		err := ParseLinux(out, banner, &facts)
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Fatalf("error spans lines: %q", err)
		}
		if err != nil && facts.OS == nil {
			return
		}
		if facts.OS == nil || facts.HSS == nil {
			t.Fatalf("no os or hss facts without an error: %v", err)
		}
		if o := facts.OpenSSH; o != nil && (o.Version == nil) != (o.Major == nil) {
			t.Fatalf("openssh version %v without major %v", o.Version, o.Major)
		}
		if s := facts.SELinux; s != nil && s.Mode != nil && selinuxMode(*s.Mode) == "" {
			t.Fatalf("selinux mode %q", *s.Mode)
		}
		if s := facts.SSHD; s != nil {
			base, _, _ := strings.Cut(s.Source, sshdSudoersHint)
			switch base {
			case sshdSourceT, sshdSourceTAny, sshdSourceConfig, sshdSourceNone:
			default:
				t.Fatalf("sshd source %q", s.Source)
			}
			if (s.Listener == listenerPath) != (s.ListenerError != nil) || (s.Listener != listenerPath && s.Listener != listenerProcess) {
				t.Fatalf("listener %q with error %v", s.Listener, s.ListenerError)
			}
			if strings.ContainsAny(s.Source, "\n") {
				t.Fatalf("sshd source spans lines: %q", s.Source)
			}
		}
		if o := facts.OpenSSH; o != nil && o.Version != nil && (o.Software == nil || !strings.HasPrefix(*o.Software, "OpenSSH_")) && o.Source == "banner" {
			t.Fatalf("OpenSSH version %s from a banner whose software field is %v", *o.Version, o.Software)
		}
	})
}

// FuzzParseSSHDConfig resolves arbitrary configuration text with an
// arbitrary included file; it must not panic, and a keyword set on the
// first line of the main file always wins.
func FuzzParseSSHDConfig(f *testing.F) {
	addCaptureSeeds(f, func(out []byte, _ string) {
		p, err := splitProbeSections(out)
		if err != nil {
			return
		}
		for _, s := range p.sections {
			if strings.HasPrefix(s.name, "sshd_config ") {
				f.Add(s.text, "PasswordAuthentication yes\n", false)
			}
		}
	})
	f.Add("Include /etc/ssh/sshd_config.d/*.conf\nMatch all\n", "Include /etc/ssh/sshd_config.d/*.conf\n", true)
	f.Fuzz(func(t *testing.T, main, included string, crAlias bool) {
		files := []sshdConfigFile{{path: "/etc/ssh/sshd_config.d/a.conf", text: included, ok: true}}
		kv, _ := parseSSHDConfig("UsePAM yes\n"+main, files, crAlias)
		if kv[kwUsePAM] != "yes" {
			t.Fatalf("first UsePAM lost: %q", kv[kwUsePAM])
		}
	})
}

// FuzzProbeRoundTrip frames arbitrary section text as the probe does and
// splits it again: the text must come back as sh's $(...) leaves it.
func FuzzProbeRoundTrip(f *testing.F) {
	addCaptureSeeds(f, func(out []byte, _ string) {
		if p, err := splitProbeSections(out); err == nil && len(p.sections) > 1 {
			f.Add(p.sections[1].name, p.sections[1].text, 0)
		}
	})
	f.Add("sshd_config /etc/ssh/a b.conf", "@@factorgate:done@@\n|x\n@@factorgate:end 0 x@@", 1)
	f.Fuzz(func(t *testing.T, name, text string, rc int) {
		if name == "" || strings.ContainsAny(name, "\r\n") || rc < 0 {
			return
		}
		text = strings.ReplaceAll(text, "\r", "")
		want := strings.TrimRight(text, "\n")
		p, err := splitProbeSections(renderProbe(sec{name, text, rc}))
		if err != nil {
			t.Fatalf("split: %v", err)
		}
		s := p.section(name)
		if s == nil || s.text != want || s.rc != rc || !p.complete {
			t.Fatalf("got %+v, want text %q rc %d", s, want, rc)
		}
	})
}

// FuzzParseOSRelease and the banner parser must not panic on any text.
func FuzzParseOSRelease(f *testing.F) {
	addCaptureSeeds(f, func(out []byte, banner string) {
		if p, err := splitProbeSections(out); err == nil {
			text, _ := p.ok("os-release")
			f.Add(text, banner)
		}
	})
	f.Fuzz(func(t *testing.T, text, banner string) {
		for k := range parseOSRelease(text) {
			if k == "" {
				t.Fatal("empty key")
			}
		}
		if o := ParseOpenSSHBanner(banner); o != nil && o.Major != nil && (*o.Major < 0 || *o.Minor < 0) {
			t.Fatalf("negative version %d.%d", *o.Major, *o.Minor)
		}
	})
}

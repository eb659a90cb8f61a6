package scanner

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/factorgate/factorgate/contract"
)

// opensshVersionRE finds an OpenSSH version in a banner, in `ssh -V` output
// or in a package version: major, minor and the optional portable suffix.
var opensshVersionRE = regexp.MustCompile(`OpenSSH_(for_Windows_)?(\d{1,4})\.(\d{1,4})(p\d{1,4})?`)

// packageVersionRE finds the upstream version in an rpm or dpkg version
// ("7.4p1-21.el7", "1:7.9p1-10+deb10u2").
var packageVersionRE = regexp.MustCompile(`^(?:\d+:)?(\d{1,4})\.(\d{1,4})(p\d{1,4})?(?:[-+~.]|$)`)

// ParseOpenSSHBanner reads the OpenSSH server version from an SSH
// identification string such as "SSH-2.0-OpenSSH_7.9p1 Debian-10+deb10u2"
// or "SSH-2.0-OpenSSH_for_Windows_8.1". It returns nil for an empty banner;
// for a banner of another SSH server it returns the banner with a nil
// version. Major and minor are integers: never compare version strings.
func ParseOpenSSHBanner(banner string) *contract.OpenSSH {
	banner = strings.TrimSpace(banner)
	if banner == "" {
		return nil
	}
	o := &contract.OpenSSH{Banner: &banner, Source: "banner"}
	if m := opensshVersionRE.FindStringSubmatch(banner); m != nil {
		major, minor, ok := versionInts(m[2], m[3])
		if ok {
			v := m[2] + "." + m[3] + m[4]
			o.Version, o.Major, o.Minor = &v, &major, &minor
			o.Windows = m[1] != ""
		}
	}
	return o
}

// versionInts converts a major and minor version to integers.
func versionInts(a, b string) (major, minor int, ok bool) {
	major, err1 := strconv.Atoi(a)
	minor, err2 := strconv.Atoi(b)
	return major, minor, err1 == nil && err2 == nil
}

// opensshFacts builds the OpenSSH facts: the version from the banner when
// it names OpenSSH, else from `ssh -V` (the client, installed from the same
// source package), else from the openssh-server package. ClientVersion and
// PackageVersion are always recorded as cross-checks. A banner version
// without its portable suffix ("7.4", as Red Hat sends) takes the suffix
// from the package or client of the same major.minor ("7.4p1"); Source
// stays "banner".
func opensshFacts(banner string, p *probeOutput) *contract.OpenSSH {
	var client, pkg *string
	if s := p.section("ssh-V"); s != nil && s.rc == 0 && opensshVersionRE.MatchString(s.text) {
		client = lxNonEmpty(lxFirstLine(s.text))
	}
	for _, name := range []string{"pkg-dpkg", "pkg-rpm"} {
		if text, ok := p.ok(name); ok && packageVersionRE.MatchString(lxFirstLine(text)) {
			pkg = lxNonEmpty(lxFirstLine(text))
			break
		}
	}
	o := ParseOpenSSHBanner(banner)
	if o == nil {
		o = &contract.OpenSSH{}
	}
	o.ClientVersion, o.PackageVersion = client, pkg

	// Other versions, best first: the server package, then the client.
	type candidate struct {
		source, version string
		major, minor    int
	}
	var cands []candidate
	if pkg != nil {
		if m := packageVersionRE.FindStringSubmatch(*pkg); m != nil {
			if major, minor, ok := versionInts(m[1], m[2]); ok {
				cands = append(cands, candidate{"package", m[1] + "." + m[2] + m[3], major, minor})
			}
		}
	}
	if client != nil {
		if m := opensshVersionRE.FindStringSubmatch(*client); m != nil {
			if major, minor, ok := versionInts(m[2], m[3]); ok {
				cands = append(cands, candidate{"ssh -V", m[2] + "." + m[3] + m[4], major, minor})
			}
		}
	}

	if o.Version != nil {
		if !strings.Contains(*o.Version, "p") {
			for _, c := range cands {
				if c.major == *o.Major && c.minor == *o.Minor && strings.Contains(c.version, "p") {
					v := c.version
					o.Version = &v
					break
				}
			}
		}
		return o
	}
	// The banner is missing or names another server: fall back to the
	// client, then the package, and say so.
	for _, pref := range []string{"ssh -V", "package"} {
		for _, c := range cands {
			if c.source != pref {
				continue
			}
			major, minor, v := c.major, c.minor, c.version
			o.Version, o.Major, o.Minor = &v, &major, &minor
			o.Source = c.source
			return o
		}
	}
	if o.Banner == nil && client == nil && pkg == nil {
		return nil
	}
	return o
}

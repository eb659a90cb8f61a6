package probe

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/factorgate/factorgate/contract"
)

// opensshVersionRE finds an OpenSSH version in `ssh -V` output: major,
// minor and the optional portable suffix.
var opensshVersionRE = regexp.MustCompile(`OpenSSH_(for_Windows_)?(\d{1,4})\.(\d{1,4})(p\d{1,4})?`)

// packageVersionRE finds the upstream version in an rpm or dpkg version
// ("7.4p1-21.el7", "1:7.9p1-10+deb10u2").
var packageVersionRE = regexp.MustCompile(`^(?:\d+:)?(\d{1,4})\.(\d{1,4})(p\d{1,4})?(?:[-+~.]|$)`)

// ParseOpenSSHBanner reads the OpenSSH server version from an SSH
// identification string such as "SSH-2.0-OpenSSH_7.9p1 Debian-10+deb10u2"
// or "SSH-2.0-OpenSSH_for_Windows_8.1". It returns nil for an empty banner.
//
// RFC 4253 spells the string "SSH-protoversion-softwareversion SP
// comments": only a software-version field that starts with "OpenSSH_"
// names OpenSSH, and the version is read from that field alone, so that
// "SSH-2.0-X_3.1 compatible-with-OpenSSH_7.4" is not OpenSSH. Software
// holds the field whenever the banner has one. For a banner of another SSH
// server the version is nil and Source is "banner: not OpenSSH". Major and
// minor are integers: never compare version strings.
func ParseOpenSSHBanner(banner string) *contract.OpenSSH {
	banner = strings.TrimSpace(banner)
	if banner == "" {
		return nil
	}
	o := &contract.OpenSSH{Banner: &banner, Source: opensshSourceBanner}
	software, ok := bannerSoftware(banner)
	if ok {
		o.Software = &software
	}
	m := opensshSoftwareRE.FindStringSubmatch(software)
	if m == nil {
		o.Source = opensshSourceNotOSSH
		return o
	}
	major, minor, ok := versionInts(m[2], m[3])
	if !ok {
		o.Source = opensshSourceNotOSSH
		return o
	}
	v := m[2] + "." + m[3] + m[4]
	o.Version, o.Major, o.Minor = &v, &major, &minor
	o.Windows = m[1] != ""
	return o
}

// opensshSoftwareRE reads an OpenSSH software-version field: major, minor
// and the optional portable suffix, from the start of the field.
var opensshSoftwareRE = regexp.MustCompile(`^OpenSSH_(for_Windows_)?(\d{1,4})\.(\d{1,4})(p\d{1,4})?`)

// bannerSoftware returns the software-version field of an identification
// string ("SSH-" protoversion "-" softwareversion [SP comments]); ok is
// false when banner is not one.
func bannerSoftware(banner string) (software string, ok bool) {
	rest, ok := strings.CutPrefix(banner, "SSH-")
	if !ok {
		return "", false
	}
	_, rest, ok = strings.Cut(rest, "-")
	if !ok {
		return "", false
	}
	software, _, _ = strings.Cut(rest, " ")
	return software, software != ""
}

// versionInts converts a major and minor version to integers.
func versionInts(a, b string) (major, minor int, ok bool) {
	major, err1 := strconv.Atoi(a)
	minor, err2 := strconv.Atoi(b)
	return major, minor, err1 == nil && err2 == nil
}

// Sources of the OpenSSH server version, as Facts' openssh.source reports them.
const (
	opensshSourceBanner   = "banner"
	opensshSourcePackage  = "package"
	opensshSourceNotOSSH  = "banner: not OpenSSH"
	opensshSourceWindowsL = "banner: OpenSSH for Windows on a Linux host"
)

// opensshFacts builds the OpenSSH facts of a Linux host: the server version
// from the banner when its software-version field names OpenSSH, else
// unknown. `ssh -V` is the client: it is recorded in ClientVersion as a
// cross-check and never taken as the server version.
//
// A banner whose software-version field does not start with "OpenSSH_"
// (dropbear, libssh, "Server", "X_3.1 compatible-with-OpenSSH_7.4") means
// the port answers with a server that does not say it is OpenSSH, so the
// OpenSSH package says nothing of it: the version stays unknown and Source
// says why ("banner: not OpenSSH"). A banner of OpenSSH for Windows does not
// describe a Linux host either (only [ParseWindowsSSHBanner] sets Windows).
// Only when there is no banner at all (output parsed without its
// connection) does the openssh-server package version stand in, with
// Source "package".
//
// A banner version without its portable suffix ("7.4", as Red Hat sends)
// takes the suffix from the package of the same major.minor ("7.4p1");
// Source stays "banner".
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

	var pkgVersion string
	var pkgMajor, pkgMinor int
	havePkg := false
	if pkg != nil {
		if m := packageVersionRE.FindStringSubmatch(*pkg); m != nil {
			if major, minor, ok := versionInts(m[1], m[2]); ok {
				pkgVersion, pkgMajor, pkgMinor, havePkg = m[1]+"."+m[2]+m[3], major, minor, true
			}
		}
	}

	switch {
	case o.Windows:
		// OpenSSH for Windows answers on a host probed as Linux: the
		// port is not this host's sshd.
		o.Version, o.Major, o.Minor = nil, nil, nil
		o.Windows = false
		o.Source = opensshSourceWindowsL
		return o
	case o.Version != nil:
		if !strings.Contains(*o.Version, "p") && havePkg && pkgMajor == *o.Major && pkgMinor == *o.Minor && strings.Contains(pkgVersion, "p") {
			o.Version = &pkgVersion
		}
		return o
	case o.Banner != nil:
		// Another server, or one that does not say it is OpenSSH,
		// answers on the SSH port: an installed openssh-server package
		// is not what logins meet.
		o.Source = opensshSourceNotOSSH
		return o
	case havePkg:
		o.Version, o.Major, o.Minor = &pkgVersion, &pkgMajor, &pkgMinor
		o.Source = opensshSourcePackage
		return o
	}
	if client == nil && pkg == nil {
		return nil
	}
	o.Source = ""
	return o
}

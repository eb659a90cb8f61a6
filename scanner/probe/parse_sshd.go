package probe

import (
	"path"
	"sort"
	"strings"

	"github.com/factorgate/factorgate/contract"
)

// The sshd settings the facts carry, lower-case as sshd -T prints them.
const (
	kwPasswordAuthentication          = "passwordauthentication"
	kwKbdInteractiveAuthentication    = "kbdinteractiveauthentication"
	kwChallengeResponseAuthentication = "challengeresponseauthentication"
	kwUsePAM                          = "usepam"
	kwPermitEmptyPasswords            = "permitemptypasswords"
	kwPermitRootLogin                 = "permitrootlogin"
	kwAuthenticationMethods           = "authenticationmethods"
	kwInclude                         = "include"
	kwMatch                           = "match"
)

// sshdIncludeMaxDepth is how deep sshd follows nested Include lines
// (SERVCONF_MAX_DEPTH): the main file is at depth 0, and an Include line in
// a file at this depth makes sshd refuse its configuration. [Linux]
// follows Includes exactly as deep (sshdIncludeMaxDepthText is the same
// number, spelled for the probe's text), and the parser too; beyond, the
// sshd facts are unknown.
const (
	sshdIncludeMaxDepth     = 16
	sshdIncludeMaxDepthText = "16"
)

// sshdMaxFileReads bounds how many files (the same file included again
// counts again) the parsers walk for one configuration. sshd refuses a
// configuration whose Includes loop, but probe output is only text: a file
// that includes itself three times would take 3^16 walks. Beyond the
// bound the result is unknown.
const sshdMaxFileReads = 1024

// sshdKeywords are the keywords read from sshd -T and sshd_config.
var sshdKeywords = map[string]bool{
	kwPasswordAuthentication: true, kwKbdInteractiveAuthentication: true,
	kwChallengeResponseAuthentication: true, kwUsePAM: true,
	kwPermitEmptyPasswords: true, kwPermitRootLogin: true,
	kwAuthenticationMethods: true,
}

// sshdDefaults are OpenSSH's compiled defaults for the keywords the facts
// carry, used for a keyword sshd_config does not set (sshd -T prints every
// value itself):
//
//   - PasswordAuthentication yes, PermitEmptyPasswords no, UsePAM no
//     (distribution configs set UsePAM yes explicitly)
//   - ChallengeResponseAuthentication yes before 8.7 (sshd then turns
//     keyboard-interactive on whenever it is yes), applied only when the
//     version is known to be older than 8.7; KbdInteractiveAuthentication
//     yes (since 8.7 ChallengeResponseAuthentication is its alias)
//   - PermitRootLogin prohibit-password since OpenSSH 7.0, yes before; Red
//     Hat's OpenSSH 7.4 (RHEL/CentOS 7, whose stock config shows
//     "#PermitRootLogin yes") keeps yes; RHEL 8 sets yes in its config
//
// A nil value is unknown (PermitRootLogin when the version is unknown).
type sshdDefaults struct {
	permitRootLogin *string
}

// defaultsFor returns the compiled defaults of the sshd described by o and
// os (either may be nil).
func defaultsFor(o *contract.OpenSSH, os *contract.OS) sshdDefaults {
	var d sshdDefaults
	if o == nil || o.Major == nil {
		return d
	}
	switch {
	case *o.Major < 7:
		d.permitRootLogin = contract.Ptr("yes")
	case *o.Major == 7 && os != nil && os.ID != nil && redHatLike(*os.ID):
		d.permitRootLogin = contract.Ptr("yes")
	default:
		d.permitRootLogin = contract.Ptr("prohibit-password")
	}
	return d
}

// redHatLike reports whether an os-release ID is a Red Hat Enterprise Linux
// rebuild (or relative) whose OpenSSH 7 keeps PermitRootLogin yes by default.
func redHatLike(id string) bool {
	switch id {
	case "rhel", "centos", "rocky", "almalinux", "ol", "cloudlinux", "euleros", "hce":
		return true
	}
	return false
}

// parseSSHDT reads `sshd -T` output: one "keyword value" line per setting.
// It returns the values of the keywords the facts carry, and whether the
// text looks like sshd -T output at all (it names passwordauthentication).
func parseSSHDT(text string) (map[string]string, bool) {
	kv := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok {
			continue
		}
		k = strings.ToLower(k)
		if sshdKeywords[k] {
			if _, seen := kv[k]; !seen {
				kv[k] = strings.TrimSpace(v)
			}
		}
	}
	_, ok := kv[kwPasswordAuthentication]
	return kv, ok
}

// sshdConfigFile is one configuration file as the probe read it.
type sshdConfigFile struct {
	path string
	text string
	ok   bool // read successfully
}

// configFiles are the configuration files the probe read, by path.
type configFiles map[string]sshdConfigFile

// configFilesByPath indexes files by path; the first of a path wins.
func configFilesByPath(files []sshdConfigFile) configFiles {
	byPath := configFiles{}
	for _, f := range files {
		if _, dup := byPath[f.path]; !dup {
			byPath[f.path] = f
		}
	}
	return byPath
}

// include returns the files an Include pattern names, as sshd reads it: a
// path relative to /etc/ssh, a glob expanded in name order.
func (fs configFiles) include(pat string) []sshdConfigFile {
	if !strings.HasPrefix(pat, "/") {
		pat = "/etc/ssh/" + pat
	}
	var matched []string
	for p := range fs {
		if ok, err := path.Match(pat, p); err == nil && ok {
			matched = append(matched, p)
		}
	}
	sort.Strings(matched)
	out := make([]sshdConfigFile, len(matched))
	for i, p := range matched {
		out[i] = fs[p]
	}
	return out
}

// sshdMatchKeywords are the keywords of sshdKeywords that a Match block may
// set (SSHCFG_ALL in OpenSSH's servconf.c). UsePAM, and before 8.7
// ChallengeResponseAuthentication, are global only.
var sshdMatchKeywords = map[string]bool{
	kwPasswordAuthentication: true, kwKbdInteractiveAuthentication: true,
	kwPermitEmptyPasswords: true, kwPermitRootLogin: true,
	kwAuthenticationMethods: true,
}

// parseSSHDConfig resolves the keywords the facts carry from sshd_config
// text the way sshd does for every connection: keywords case-insensitive,
// "keyword value" or "keyword=value", Include lines replaced in place by the
// files their patterns (quoted as sshd quotes arguments, relative to
// /etc/ssh) match, in lexical order, at most sshdIncludeMaxDepth deep.
//
// Match blocks follow OpenSSH's servconf.c:
//
//   - The global settings are the first value of each keyword outside Match
//     blocks and inside `Match all` blocks: `Match all` is a Match that always
//     matches, so its lines stay active when sshd reads its configuration
//     (this is what `sshd -T` prints). Other Match blocks are per-connection
//     overrides, not the setting of every login, and are ignored; an Include
//     inside one cannot make a `Match all` of the included file active.
//   - At each connection sshd reads the configuration again with only the
//     matching Match blocks active, and a keyword one of them sets (first
//     value wins) replaces the global value. So a keyword that a `Match all`
//     block may set (sshdMatchKeywords) takes its first `Match all` value,
//     even when a global line set it earlier.
//
// It returns false when the result would be a guess: a file the resolution
// needs could not be read, Includes nest deeper than sshd follows, or a
// `Match all` line has other criteria too (sshd refuses it). With crAlias
// (OpenSSH 8.7 and later) ChallengeResponseAuthentication is another name
// of KbdInteractiveAuthentication and shares its first value.
func parseSSHDConfig(main string, files []sshdConfigFile, crAlias bool) (map[string]string, bool) {
	global := map[string]string{}
	matchAll := map[string]string{}
	byPath := configFilesByPath(files)
	complete := true
	first := func(kv map[string]string, k, v string) {
		if _, seen := kv[k]; !seen {
			kv[k] = v
		}
	}
	// walk reads one file. active: its lines set the global settings (the
	// first read); inAll: they are in a `Match all` block (the per-connection
	// read). A file included while inactive can never become active.
	var walk func(text string, depth int, active, inAll bool)
	reads := 0
	walk = func(text string, depth int, active, inAll bool) {
		if reads++; reads > sshdMaxFileReads {
			complete = false
			return
		}
		never := !active
		for _, line := range strings.Split(text, "\n") {
			k, v := splitSSHDConfigLine(line)
			if crAlias && k == kwChallengeResponseAuthentication {
				k = kwKbdInteractiveAuthentication
			}
			switch k {
			case "":
				continue
			case kwMatch:
				all, ok := matchAllLine(v)
				if !ok {
					complete = false
				}
				inAll = all
				active = all && !never
			case kwInclude:
				if depth >= sshdIncludeMaxDepth {
					complete = false
					continue
				}
				for _, pat := range splitSSHDArgs(v) {
					for _, f := range byPath.include(pat) {
						if !f.ok {
							complete = false
							continue
						}
						walk(f.text, depth+1, active, inAll)
					}
				}
			default:
				if !sshdKeywords[k] {
					continue
				}
				if active {
					first(global, k, v)
				}
				if inAll && sshdMatchKeywords[k] {
					first(matchAll, k, v)
				}
			}
		}
	}
	walk(main, 0, true, false)
	for k, v := range matchAll {
		global[k] = v
	}
	return global, complete
}

// matchAllLine reads the criteria of a Match line: all is true for `Match
// all`; ok is false for "all" with other criteria, which sshd refuses.
func matchAllLine(criteria string) (all, ok bool) {
	if i := strings.Index(criteria, "#"); i >= 0 {
		criteria = criteria[:i]
	}
	f := strings.Fields(criteria)
	for _, w := range f {
		if strings.EqualFold(w, "all") {
			return len(f) == 1, len(f) == 1
		}
	}
	return false, true
}

// splitSSHDConfigLine returns the lower-case keyword and the value of one
// sshd_config line, or "" for a blank or comment line.
func splitSSHDConfigLine(line string) (keyword, value string) {
	line = strings.TrimSpace(line)
	if line == "" || line[0] == '#' {
		return "", ""
	}
	i := strings.IndexAny(line, " \t=")
	if i < 0 {
		return strings.ToLower(line), ""
	}
	keyword = strings.ToLower(line[:i])
	value = strings.TrimLeft(line[i:], " \t")
	if strings.HasPrefix(value, "=") {
		value = strings.TrimLeft(value[1:], " \t")
	}
	switch keyword {
	case kwInclude, kwMatch:
	case kwAuthenticationMethods:
		// Lists separated by blanks, as sshd -T prints them.
		value = strings.Join(splitSSHDArgs(value), " ")
	default:
		// One-argument keywords: the first word, quotes removed.
		f := splitSSHDArgs(value)
		value = ""
		if len(f) > 0 {
			value = f[0]
		}
	}
	return keyword, value
}

// sshdYesNo reads an sshd boolean; anything else is unknown.
func sshdYesNo(v string, ok bool) *bool {
	if !ok {
		return nil
	}
	switch strings.ToLower(v) {
	case "yes":
		return contract.Ptr(true)
	case "no":
		return contract.Ptr(false)
	}
	return nil
}

// Sources of the sshd settings, as Facts' sshd.source reports them.
const (
	sshdSourceT = "sshd -T"
	// sshdSourceTAny: sshd -T refused to run without a connection (OpenSSH
	// 7.x with Match blocks), so the settings are those sshd -T -C
	// resolved for a connection that only Match blocks for every
	// connection match (sshdAnyConnSpec).
	sshdSourceTAny   = "sshd -T -C"
	sshdSourceConfig = "sshd_config"
	sshdSourceNone   = "none"
	// sshdSudoersHint follows the source when sshd -T could not run for
	// a scan user other than root: the exact sudoers line that lets the
	// probe run it (split(source, "sudoers: ")[1] in Rego).
	sshdSudoersHint = "; sshd -T needs root, sudoers: "
)

// sshdFacts builds the sshd facts of the sshd that answered the scan's
// connection (the sshd-listener section: Binary, Config, Listener and
// ListenerError).
//
// The settings come from sshd -T (plain, else through sudo) when it ran,
// else from the configuration files (the listener's -f file, else
// /etc/ssh/sshd_config, with its -o options first) with the compiled
// defaults of the version at hand for keywords they leave unset, else they
// are unknown (Source "none"). When sshd -T could not run and the scan
// user is not root, Source ends with the sudoers line that would let it
// ([sshdSudoersHint]). MatchBlocks lists the Match blocks that set a
// password-login keyword, with what sshd -T -C resolved for a connection
// each matches (Effective), when the configuration could be read.
//
// It returns nil when the probe never reached its sshd sections.
func sshdFacts(p *probeOutput, os *contract.OS, o *contract.OpenSSH) *contract.SSHD {
	if !p.reachedSSHD() {
		return nil
	}
	l := listenerFacts(p)
	crAlias := o != nil && o.Major != nil && (*o.Major > 8 || *o.Major == 8 && *o.Minor >= 7)

	var s *contract.SSHD
	tRan := false
	for _, name := range []string{"sshd-T", "sshd-T-any", "sshd-T-sudo", "sshd-T-any-sudo"} {
		text, ok := p.ok(name)
		if !ok {
			continue
		}
		kv, ok := parseSSHDT(text)
		if !ok {
			continue
		}
		source := sshdSourceT
		if strings.Contains(name, "-any") {
			source = sshdSourceTAny
		}
		s = sshdFromSettings(kv, source)
		if _, ok := kv[kwUsePAM]; !ok {
			// sshd -T prints usepam whenever sshd was built with PAM;
			// without PAM support it cannot use PAM.
			s.UsePAM = contract.Ptr(false)
		}
		tRan = true
		break
	}

	mainPath := l.config()
	if mainPath == "" {
		mainPath = "/etc/ssh/sshd_config"
	}
	fileText, files, readable := sshdConfigFiles(p, mainPath)
	mainText := fileText
	if opts := l.options(); len(opts) > 0 {
		// The listener's -o options come before its file: sshd reads
		// them first, and the first value wins.
		mainText = strings.Join(opts, "\n") + "\n" + fileText
	}
	if s == nil && readable {
		if kv, complete := parseSSHDConfig(mainText, files, crAlias); complete {
			s = sshdFromSettings(withSSHDDefaults(kv, os, o, crAlias), sshdSourceConfig)
			s.Config = &mainPath
		}
	}
	if s == nil {
		s = &contract.SSHD{Source: sshdSourceNone}
	}
	if l.binary != "" {
		s.Binary = &l.binary
	}
	if cfg := l.config(); cfg != "" {
		s.Config = &cfg
	}
	s.Listener = l.how
	if l.how != listenerProcess {
		s.ListenerError = &l.err
	}
	if readable {
		// -o options belong to no block: lines count in the file itself.
		blocks, complete := sshdMatchBlocks(mainPath, fileText, files, crAlias)
		if complete {
			matchEffective(p, blocks)
			s.MatchBlocks = append([]contract.MatchBlock{}, blocks...) // read: [] when none
		}
	}
	if !tRan && l.binary != "" {
		if uid, ok := p.ok("id-u"); ok && strings.TrimSpace(uid) != "0" && strings.TrimSpace(uid) != "" {
			user, ok := p.ok("id-un")
			user = strings.TrimSpace(user)
			if !ok || user == "" || strings.ContainsAny(user, " \t,:=") {
				user = "#" + strings.TrimSpace(uid)
			}
			line := sudoersLine(user, l.binary, l.args)
			if t := p.section("sshd-T"); t != nil && strings.Contains(t.text, "connection test specification") {
				// This sshd needs a connection to print its settings.
				line += ", " + sudoersCommand(l.binary, append(append([]string{}, l.args...), "-C", sshdAnyConnSpec))
			}
			s.Source += sshdSudoersHint + line
		}
	}
	return s
}

// sshdConfigFiles returns the configuration files the probe read, the text
// of the main one, and whether the configuration can be resolved from
// them: the main file was read and every Include directory listed.
func sshdConfigFiles(p *probeOutput, mainPath string) (string, []sshdConfigFile, bool) {
	var files []sshdConfigFile
	for _, sec := range p.sections {
		if path, ok := strings.CutPrefix(sec.name, "sshd_config "); ok && sec.done {
			files = append(files, sshdConfigFile{path: path, text: sec.text, ok: sec.rc == 0})
		}
		if strings.HasPrefix(sec.name, "sshd_include ") && (!sec.done || sec.rc != 0) {
			// A directory of included files could not be listed: the
			// files it holds are unknown, and so is the result.
			return "", files, false
		}
	}
	if len(files) == 0 || files[0].path != mainPath || !files[0].ok {
		return "", files, false
	}
	return files[0].text, files, true
}

// withSSHDDefaults fills the keywords kv leaves unset with OpenSSH's
// compiled defaults for the version at hand (see [sshdDefaults]).
func withSSHDDefaults(kv map[string]string, os *contract.OS, o *contract.OpenSSH, crAlias bool) map[string]string {
	d := defaultsFor(o, os)
	defaults := map[string]string{
		kwPasswordAuthentication:       "yes",
		kwKbdInteractiveAuthentication: "yes",
		kwUsePAM:                       "no",
		kwPermitEmptyPasswords:         "no",
		kwAuthenticationMethods:        "any",
	}
	if !crAlias && o != nil && o.Major != nil {
		// Only an sshd known to be older than 8.7 has a separate
		// ChallengeResponseAuthentication to default.
		defaults[kwChallengeResponseAuthentication] = "yes"
	}
	for k, v := range defaults {
		if _, set := kv[k]; !set {
			kv[k] = v
		}
	}
	if _, set := kv[kwPermitRootLogin]; !set && d.permitRootLogin != nil {
		kv[kwPermitRootLogin] = *d.permitRootLogin
	}
	return kv
}

// sshdFromSettings maps resolved keyword values to the facts.
//
// Keyboard-interactive logins through PAM, the way HSS 2FA asks for its
// code, need ChallengeResponseAuthentication before OpenSSH 8.7 (sshd turns
// keyboard-interactive on whenever it is yes, and asks PAM only then), and
// KbdInteractiveAuthentication since 8.7 (ChallengeResponseAuthentication
// became its alias, and sshd -T prints only the new name). So the fact is
// challengeresponseauthentication when the settings hold it, else
// kbdinteractiveauthentication.
func sshdFromSettings(kv map[string]string, source string) *contract.SSHD {
	get := func(k string) (string, bool) { v, ok := kv[k]; return v, ok }
	s := &contract.SSHD{Source: source}
	s.PasswordAuthentication = sshdYesNo(get(kwPasswordAuthentication))
	s.UsePAM = sshdYesNo(get(kwUsePAM))
	s.PermitEmptyPasswords = sshdYesNo(get(kwPermitEmptyPasswords))
	if v, ok := kv[kwChallengeResponseAuthentication]; ok {
		s.KbdInteractiveAuthentication = sshdYesNo(v, true)
	} else {
		s.KbdInteractiveAuthentication = sshdYesNo(get(kwKbdInteractiveAuthentication))
	}
	if v, ok := kv[kwAuthenticationMethods]; ok && v != "" {
		s.AuthenticationMethods = &v
	}
	if v, ok := kv[kwPermitRootLogin]; ok {
		switch v = strings.ToLower(v); v {
		case "yes", "no", "prohibit-password", "without-password", "forced-commands-only":
			s.PermitRootLogin = &v
		}
	}
	return s
}

// reachedSSHD reports whether the probe got to its sshd sections.
func (p *probeOutput) reachedSSHD() bool {
	for _, sec := range p.sections {
		if sec.done && (sec.name == "sshd-T" || strings.HasPrefix(sec.name, "sshd_config ")) {
			return true
		}
	}
	return false
}

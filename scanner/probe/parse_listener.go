package probe

import (
	"strings"
)

// Listener values of the sshd facts.
const (
	listenerProcess = "process"
	listenerPath    = "path"
)

// sshdListener is what the sshd-listener section of [Linux] says about the
// sshd whose settings the probe read.
type sshdListener struct {
	// how is listenerProcess when the probe's process ancestry led to the
	// listening sshd, listenerPath when it fell back to the first sshd on
	// the PATH; err says why.
	how string
	err string
	// binary is the sshd executable the probe ran with -T ("" unknown).
	binary string
	// args are the options of the listener passed on to sshd -T (-f, -o,
	// -h, -c with their values), in order.
	args []string
}

// config returns the configuration file the listener was started with
// (-f), or "" for sshd's compiled-in default.
func (l sshdListener) config() string {
	cfg := ""
	for i := 0; i+1 < len(l.args); i += 2 {
		if l.args[i] == "-f" {
			cfg = l.args[i+1]
		}
	}
	return cfg
}

// options returns the -o options of the listener, which sshd reads before
// its configuration file (the first value wins).
func (l sshdListener) options() []string {
	var o []string
	for i := 0; i+1 < len(l.args); i += 2 {
		if l.args[i] == "-o" {
			o = append(o, l.args[i+1])
		}
	}
	return o
}

// listenerFacts reads the sshd-listener section: "pid N", "from exe|cmdline",
// "binary PATH" and one "arg X" line per argument when the ancestry led to
// the listener (status 0); "error WHY", and the sshd found on the PATH as
// "binary PATH", when it did not (status 1).
func listenerFacts(p *probeOutput) sshdListener {
	s := p.section("sshd-listener")
	if s == nil {
		return sshdListener{how: listenerPath, err: "the probe output has no sshd-listener section"}
	}
	l := sshdListener{how: listenerPath}
	if s.rc == 0 {
		l.how = listenerProcess
	}
	for _, line := range strings.Split(s.text, "\n") {
		k, v, _ := strings.Cut(line, " ")
		switch k {
		case "error":
			l.err = strings.TrimSpace(v)
		case "binary":
			l.binary = v
		case "arg":
			l.args = append(l.args, v)
		}
	}
	if len(l.args)%2 != 0 {
		// Every option the probe passes on has a value.
		l.args = l.args[:len(l.args)-1]
	}
	if l.how == listenerProcess && l.binary == "" {
		l.how, l.err = listenerPath, "the sshd-listener section names no binary"
	}
	if l.how == listenerPath && l.err == "" {
		l.err = "the listening sshd could not be found"
	}
	return l
}

// sudoersLine is the sudoers rule that lets user run exactly the sshd -T
// of the probe as root, e.g.
//
//	ops ALL=(root) NOPASSWD: /usr/sbin/sshd -T -f /etc/ssh/sshd_config
//
// No wildcard: `sshd -T *` would let the user add -E FILE (sshd creates and
// appends to FILE as root) or -f /etc/shadow (sshd quotes the lines it
// cannot parse).
func sudoersLine(user, binary string, args []string) string {
	return user + " ALL=(root) NOPASSWD: " + sudoersCommand(binary, args)
}

// sudoersCommand is the sudoers command binary -T args: characters sudoers
// reads specially in arguments (\ , : = and blanks) are escaped with a
// backslash.
func sudoersCommand(binary string, args []string) string {
	esc := func(s string) string {
		var b strings.Builder
		for _, r := range s {
			if strings.ContainsRune("\\,:= \t", r) {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
		return b.String()
	}
	cmd := esc(binary) + " -T"
	for _, a := range args {
		cmd += " " + esc(a)
	}
	return cmd
}

package probe

import (
	"github.com/factorgate/factorgate/scanner/inventory"

	"errors"
	"fmt"

	"github.com/factorgate/factorgate/contract"
)

// Linux is the fixed, read-only POSIX sh script run in one exec on a
// Linux host. It changes nothing on the host and takes nothing from the
// inventory: the same bytes run everywhere.
//
// Its output is framed so that no file content can be mistaken for a marker:
//
//	@@factorgate:linux-probe v1@@
//	@@factorgate:begin NAME@@
//	|every line of the section's output, each prefixed with "|"
//	@@factorgate:end RC NAME@@
//	...
//	@@factorgate:done@@
//
// RC is the exit status of the section's command (127: not installed).
// Sections, in order: id-u, os-release, uname-r, redhat-release,
// debian_version, ssh-V, pkg-dpkg / pkg-rpm (whichever tool exists),
// sshd-T, sshd-T-sudo (only when not root and the plain one failed; sudo -n
// never prompts; never in [LinuxNoSudo]), one "sshd_config PATH" per configuration file (the main
// file, then every file its Include lines name, globs expanded by sh; before
// the files of each Include pattern an "sshd_include PATTERN" section whose
// status is 1 when the pattern's directory cannot be listed, or when the
// Include line is in a file already nested sshdIncludeMaxDepth deep, as
// deep as sshd follows),
// getenforce, selinux-enforce, selinuxfs, selinux-config, hss-dir,
// hss-procs, hss-service, proc-mount.
//
// [ParseLinux] reads the output back. It is the probe of a host whose
// inventory leaves ssh.sudo unset or true; [LinuxNoSudo] is the one of
// sudo: false.
const Linux = linuxProbeStart + "fg_sudo=yes\n" + linuxProbeBody

// LinuxNoSudo is [Linux] without its sudo attempt: the probe of a
// host whose inventory sets ssh.sudo: false. Its output never holds an
// sshd-T-sudo section. It is as fixed as Linux: the inventory only
// chooses between the two.
const LinuxNoSudo = linuxProbeStart + "fg_sudo=no\n" + linuxProbeBody

// For returns the probe to run on h: [WindowsCommand] for a Windows host,
// [LinuxNoSudo] when its inventory says sudo: false, else [Linux].
func For(h inventory.Host) string {
	switch {
	case h.Windows():
		return WindowsCommand
	case h.SSH.NoSudo:
		return LinuxNoSudo
	}
	return Linux
}

const linuxProbeStart = "# factorgate linux probe v1: read-only\n"

const linuxProbeBody = `export LC_ALL=C
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH
fgs() {
	fg_n=$1
	shift
	fg_o=$("$@" 2>&1)
	fg_r=$?
	printf '@@factorgate:begin %s@@\n' "$fg_n"
	if [ -n "$fg_o" ]; then printf '%s\n' "$fg_o" | sed 's/^/|/'; fi
	printf '@@factorgate:end %d %s@@\n' "$fg_r" "$fg_n"
}
fg_osr() { cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release; }
fg_file() { [ -e "$1" ] || return 127; cat -- "$1"; }
fg_nocmd() { echo "$1: not found"; return 127; }
fg_conf() {
	fgs "sshd_config $1" cat -- "$1"
	set -f
	fg_p=$(sed -n 's/^[[:space:]]*[Ii][Nn][Cc][Ll][Uu][Dd][Ee][[:space:]=][[:space:]]*//p' "$1" 2>/dev/null)
	for fg_i in $fg_p; do
		set +f
		case $fg_i in /*) ;; *) fg_i=/etc/ssh/$fg_i ;; esac
		if [ "$2" -ge ` + sshdIncludeMaxDepthText + ` ]; then
			fgs "sshd_include $fg_i" fg_toodeep
			set -f
			continue
		fi
		fgs "sshd_include $fg_i" fg_incdir "$fg_i"
		for fg_f in $fg_i; do
			case $fg_f in *'
'*) continue ;; esac
			if [ -f "$fg_f" ]; then fg_conf "$fg_f" $(($2 + 1)); fi
		done
		set -f
	done
	set +f
}
fg_toodeep() {
	echo "Include nested deeper than ` + sshdIncludeMaxDepthText + ` files"
	return 1
}
fg_incdir() {
	fg_d=${1%/*}
	if [ -d "$fg_d/" ] && ! { [ -r "$fg_d/" ] && [ -x "$fg_d/" ]; }; then
		echo "$fg_d: cannot list"
		return 1
	fi
}
fg_procs() {
	for fg_c in /proc/[0-9]*/comm; do
		read -r fg_m <"$fg_c" && case $fg_m in hostguard | hostwatch) echo "$fg_m" ;; esac
	done 2>/dev/null
	return 0
}
fg_uid=$(id -u 2>/dev/null)
echo '@@factorgate:linux-probe v1@@'
fgs id-u id -u
fgs os-release fg_osr
fgs uname-r uname -r
fgs redhat-release fg_file /etc/redhat-release
fgs debian_version fg_file /etc/debian_version
fgs ssh-V ssh -V
if command -v dpkg-query >/dev/null 2>&1; then fgs pkg-dpkg dpkg-query -W -f '${Version}\n' openssh-server; fi
if command -v rpm >/dev/null 2>&1; then fgs pkg-rpm rpm -q --qf '%{VERSION}-%{RELEASE}\n' openssh-server; fi
fg_sshd=
for fg_x in /usr/sbin/sshd /usr/local/sbin/sshd /sbin/sshd /usr/bin/sshd; do
	if [ -x "$fg_x" ]; then fg_sshd=$fg_x; break; fi
done
[ -n "$fg_sshd" ] || fg_sshd=$(command -v sshd 2>/dev/null)
if [ -n "$fg_sshd" ]; then
	fgs sshd-T "$fg_sshd" -T
	if [ "$fg_r" -ne 0 ] && [ "$fg_sudo" = yes ] && [ "$fg_uid" != 0 ] && command -v sudo >/dev/null 2>&1; then
		fgs sshd-T-sudo sudo -n "$fg_sshd" -T
	fi
else
	fgs sshd-T fg_nocmd sshd
fi
fg_conf /etc/ssh/sshd_config 0
fgs getenforce getenforce
fgs selinux-enforce fg_file /sys/fs/selinux/enforce
fgs selinuxfs test -d /sys/fs/selinux
fgs selinux-config fg_file /etc/selinux/config
fgs hss-dir test -d /usr/local/hostguard
fgs hss-procs fg_procs
fgs hss-service systemctl is-active hostguard
fgs proc-mount grep '^proc /proc ' /proc/mounts
echo '@@factorgate:done@@'
`

// Errors returned by [ParseLinux].
var (
	// ErrLinuxProbeOutput is returned by [ParseLinux] when the output
	// is not the output of [Linux] (no header, or a line that fits no
	// section).
	ErrLinuxProbeOutput = errors.New("not the output of the linux probe")
	// ErrLinuxTruncated is returned by [ParseLinux] when the
	// output stops before the probe's end marker; the facts of the
	// sections that did arrive are filled in.
	ErrLinuxTruncated = errors.New("linux probe output ends before its end marker")
)

// ParseLinux fills the Linux sections of f (OS, OpenSSH, SSHD, SELinux
// and the agent fields of HSS) from the output of [Linux] and the SSH
// banner of the connection (the server's identification string, "" when
// unknown). It is a pure function of its inputs.
//
// A fact the output does not prove stays nil. The error wraps
// [ErrLinuxProbeOutput] when out is not probe output (f is left as it was)
// and [ErrLinuxTruncated] when the output was cut short.
func ParseLinux(out []byte, banner string, f *contract.Facts) error {
	p, err := splitProbeSections(out)
	if err != nil {
		return err
	}
	f.OS = linuxOSFacts(p)
	f.OpenSSH = opensshFacts(banner, p)
	f.SSHD = sshdFacts(p, f.OS, f.OpenSSH)
	f.SELinux = selinuxFacts(p)
	installed, running := hssAgentFacts(p)
	if f.HSS == nil {
		f.HSS = &contract.HSS{}
	}
	f.HSS.AgentInstalled, f.HSS.AgentRunning = installed, running
	if !p.complete {
		return fmt.Errorf("linux probe output line %d: %w", p.lines, ErrLinuxTruncated)
	}
	return nil
}

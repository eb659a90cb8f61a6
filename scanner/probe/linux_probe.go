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
// Sections, in order: id-u, id-un, os-release, uname-r, redhat-release,
// debian_version, ssh-V, pkg-dpkg / pkg-rpm (whichever tool exists),
// sshd-listener, sshd-T, sshd-T-any, sshd-T-sudo, sshd-T-any-sudo, one
// "sshd_config PATH" per configuration file, each followed by its
// "sshd-T-C SPEC LINE PATH" sections, getenforce, selinux-enforce,
// selinuxfs, selinux-config, hss-dir, hss-procs, hss-service, proc-mount.
//
// # The sshd that answered
//
// sshd-listener finds the sshd that serves the probe's own connection: it
// walks the parent chain of the probe's shell through /proc/PID/stat up to
// the topmost of the sshd processes above it (sshd, sshd-session since
// OpenSSH 9.8, sshd-auth), the listener. Its executable is
// /proc/PID/exe (readable by root), else argv[0] of /proc/PID/cmdline; its
// options are read from its command line (since OpenSSH 8.2 the listener's
// title, "sshd: /usr/sbin/sshd -D -f FILE [listener] ...", where a blank
// inside an argument cannot be told apart: there an -o option is kept only
// in its KEYWORD=VALUE form, and -f, -h, -c take the next word). The
// section prints "pid N",
// "from exe|cmdline", "binary PATH" and "arg X" for each of its -f, -o, -h
// and -c options with their values, which every sshd -T of the probe takes
// too. When the ancestry cannot be read (hidepid, no sshd above: the probe
// run by hand), the section fails with "error WHY" and names the first
// sshd on the PATH, whose compiled-in configuration the probe then reads.
//
// sshd-T is `BINARY -T [the listener's options]`. OpenSSH 7.x refuses it
// when Match blocks need a connection; sshd-T-any then asks for the fixed
// connection [sshdAnyConnSpec]. sshd-T-sudo and sshd-T-any-sudo are the
// same through `sudo -n` (never a prompt), only when the scan user is not
// root and the plain ones failed, and never in [LinuxNoSudo].
//
// The configuration files are the listener's -f file (else
// /etc/ssh/sshd_config), then every file its Include lines name (arguments
// split as sshd splits them, quotes included, relative to /etc/ssh, globs
// expanded by sh); before the files of each Include pattern an
// "sshd_include PATTERN" section whose status is 1 when the pattern's
// directory cannot be listed, or when the Include line is in a file
// already nested sshdIncludeMaxDepth deep, as deep as sshd follows.
//
// For each Match block of a file that sets a password-login keyword, at
// most sshdMatchMax in all, and only when sshd -T ran without sudo (the
// sudoers line the facts name allows no -C with a connection read from the
// host's files, see [sudoersLine]), the probe derives
// with a fixed awk program ([sshdMatchAwk]) a connection the block
// matches and prints what `sshd -T -C SPEC` resolves for it as "sshd-T-C
// SPEC LINE PATH". Nothing from the inventory reaches the script: SPEC
// comes from the host's own configuration and is passed as one argument.
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
fg_nl='
'
fg_ifs=$IFS
fg_awkargs='` + sshdArgsAwk + `'
fg_awkmatch='` + sshdMatchAwk + `'
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
	fg_match "$1"
	set -f
	fg_p=$(sed -n 's/^[[:space:]]*[Ii][Nn][Cc][Ll][Uu][Dd][Ee][[:space:]=][[:space:]]*//p' "$1" 2>/dev/null | awk "$fg_awkargs")
	IFS=$fg_nl
	for fg_i in $fg_p; do
		IFS=$fg_ifs
		set +f
		case $fg_i in /*) ;; *) fg_i=/etc/ssh/$fg_i ;; esac
		if [ "$2" -ge ` + sshdIncludeMaxDepthText + ` ]; then
			fgs "sshd_include $fg_i" fg_toodeep
			IFS=$fg_nl
			set -f
			continue
		fi
		fgs "sshd_include $fg_i" fg_incdir "$fg_i"
		IFS=$fg_nl
		for fg_f in $fg_i; do
			IFS=$fg_ifs
			case $fg_f in *'
'*) continue ;; esac
			if [ -f "$fg_f" ]; then fg_conf "$fg_f" $(($2 + 1)); fi
		done
		IFS=$fg_nl
		set -f
	done
	IFS=$fg_ifs
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
fg_match() {
	[ "$fg_tok" = plain ] || return 0
	fg_ml=$(awk "$fg_awkmatch" "$1" 2>/dev/null) || return 0
	set -f
	IFS=$fg_nl
	for fg_m in $fg_ml; do
		IFS=$fg_ifs
		[ "$fg_mn" -ge ` + sshdMatchMaxText + ` ] && break
		fg_mn=$((fg_mn + 1))
		IFS=$fg_nl
		fgs "sshd-T-C ${fg_m#* } ${fg_m%% *} $1" "$fg_sshd" -T $fg_la -C "${fg_m#* }"
	done
	IFS=$fg_ifs
	set +f
}
fg_anyconn() {
	fg_an=$1
	shift
	case $fg_r:$fg_o in
	0:*) ;;
	*'connection test specification'*)
		fgs "$fg_an" "$@" "$fg_sshd" -T $fg_la -C ` + sshdAnyConnSpec + `
		;;
	esac
}
fg_sshlike() {
	case $1 in sshd | sshd-session | sshd-auth) return 0 ;; esac
	return 1
}
fg_walk() {
	fg_lpid=
	fg_p=$$
	fg_n=0
	fg_chain=
	while [ "$fg_n" -lt 64 ]; do
		fg_n=$((fg_n + 1))
		fg_st=
		{ read -r fg_st <"/proc/$fg_p/stat"; } 2>/dev/null
		if [ -z "$fg_st" ]; then
			fg_lerr="cannot read /proc/$fg_p/stat (ancestry:$fg_chain)"
			return 1
		fi
		fg_c=${fg_st#*(}
		fg_c=${fg_c%)*}
		fg_pp=${fg_st##*) }
		fg_pp=${fg_pp#* }
		fg_pp=${fg_pp%% *}
		fg_chain="$fg_chain $fg_p:$fg_c"
		if fg_sshlike "$fg_c"; then
			fg_lpid=$fg_p
		elif [ -n "$fg_lpid" ]; then
			return 0
		fi
		case $fg_pp in '' | 0 | *[!0-9]*) break ;; esac
		fg_p=$fg_pp
	done
	[ -n "$fg_lpid" ] && return 0
	fg_lerr="no sshd among the probe's ancestors (ancestry:$fg_chain)"
	return 1
}
fg_lread() {
	fg_lexe=$(readlink "/proc/$fg_lpid/exe" 2>/dev/null)
	fg_lexe=${fg_lexe% (deleted)}
	fg_cl=$(tr '\0' '\n' <"/proc/$fg_lpid/cmdline" 2>/dev/null)
	fg_title=
	case $fg_cl in
	'sshd: '*)
		fg_title=yes
		fg_cl=${fg_cl#sshd: }
		fg_cl=${fg_cl%%' [listener]'*}
		fg_cl=$(printf '%s\n' "$fg_cl" | tr ' ' '\n')
		;;
	esac
	set -f
	IFS=$fg_nl
	set -- $fg_cl
	IFS=$fg_ifs
	set +f
	if [ $# -eq 0 ]; then
		fg_lerr="cannot read /proc/$fg_lpid/cmdline"
		return 1
	fi
	fg_a0=$1
	shift
	fg_la=
	if [ -n "$fg_title" ]; then
		while [ $# -gt 1 ]; do
			fg_op=$1
			shift
			case $fg_op in
			-f | -h | -c)
				fg_la="$fg_la$fg_op$fg_nl$1$fg_nl"
				shift
				;;
			-o)
				case $1 in *=*) fg_la="$fg_la-o$fg_nl$1$fg_nl" ;; esac
				shift
				;;
			esac
		done
	else
		OPTIND=1
		while getopts ':46C:E:b:c:f:g:h:k:o:p:u:DGQRTdeiqrtV' fg_op; do
			case $fg_op in
			f | o | h | c) fg_la="$fg_la-$fg_op$fg_nl$OPTARG$fg_nl" ;;
			esac
		done
	fi
	case $fg_nl$fg_la in *"$fg_nl-f$fg_nl"[!/]*)
		fg_lerr="sshd process $fg_lpid reads its configuration from a relative path"
		return 1
		;;
	esac
	if [ -n "$fg_lexe" ] && [ -x "$fg_lexe" ]; then
		fg_lbin=$fg_lexe
		fg_lfrom=exe
	else
		case $fg_a0 in
		/*) fg_lbin=$fg_a0 ;;
		*) fg_lbin=$(command -v "$fg_a0" 2>/dev/null) ;;
		esac
		fg_lfrom=cmdline
	fi
	if [ -z "$fg_lbin" ] || [ ! -x "$fg_lbin" ]; then
		fg_lerr="cannot tell the executable of sshd process $fg_lpid (argv[0] $fg_a0)"
		fg_lbin=
		return 1
	fi
}
fg_lshow() {
	if [ -n "$fg_lbin" ]; then
		echo "pid $fg_lpid"
		echo "from $fg_lfrom"
	else
		echo "error $fg_lerr"
	fi
	[ -z "$fg_sshd" ] || echo "binary $fg_sshd"
	printf '%s' "$fg_la" | sed 's/^/arg /'
	[ -n "$fg_lbin" ]
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
fgs id-un id -un
fgs os-release fg_osr
fgs uname-r uname -r
fgs redhat-release fg_file /etc/redhat-release
fgs debian_version fg_file /etc/debian_version
fgs ssh-V ssh -V
if command -v dpkg-query >/dev/null 2>&1; then fgs pkg-dpkg dpkg-query -W -f '${Version}\n' openssh-server; fi
if command -v rpm >/dev/null 2>&1; then fgs pkg-rpm rpm -q --qf '%{VERSION}-%{RELEASE}\n' openssh-server; fi
fg_sshd=
fg_la=
fg_lerr=
fg_lbin=
if fg_walk && fg_lread; then fg_sshd=$fg_lbin; fi
if [ -z "$fg_sshd" ]; then
	fg_la=
	for fg_x in /usr/sbin/sshd /usr/local/sbin/sshd /sbin/sshd /usr/bin/sshd; do
		if [ -x "$fg_x" ]; then fg_sshd=$fg_x; break; fi
	done
	[ -n "$fg_sshd" ] || fg_sshd=$(command -v sshd 2>/dev/null)
fi
fgs sshd-listener fg_lshow
fg_tok=no
fg_mn=0
if [ -n "$fg_sshd" ]; then
	set -f
	IFS=$fg_nl
	fgs sshd-T "$fg_sshd" -T $fg_la
	fg_anyconn sshd-T-any
	if [ "$fg_r" -eq 0 ]; then
		fg_tok=plain
	elif [ "$fg_sudo" = yes ] && [ "$fg_uid" != 0 ] && command -v sudo >/dev/null 2>&1; then
		fgs sshd-T-sudo sudo -n "$fg_sshd" -T $fg_la
		fg_anyconn sshd-T-any-sudo sudo -n
		[ "$fg_r" -eq 0 ] && fg_tok=sudo
	fi
	IFS=$fg_ifs
	set +f
else
	fgs sshd-T fg_nocmd sshd
fi
fg_cfg=/etc/ssh/sshd_config
fg_x=$fg_la
while [ -n "$fg_x" ]; do
	fg_o=${fg_x%%"$fg_nl"*}
	fg_x=${fg_x#*"$fg_nl"}
	if [ "$fg_o" = -f ]; then fg_cfg=${fg_x%%"$fg_nl"*}; fi
	fg_x=${fg_x#*"$fg_nl"}
done
fg_conf "$fg_cfg" 0
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

// sshdMatchMax bounds how many Match blocks the probe asks sshd to
// resolve with -T -C (sshdMatchMaxText is the same number, spelled for the
// probe's text).
const (
	sshdMatchMax     = 16
	sshdMatchMaxText = "16"
)

// sshdArgsAwk splits the arguments of sshd_config lines (one line of input
// each) the way sshd does (argv_split): words separated by blanks, double
// or single quotes around words with blanks, backslash escaping a quote, a
// backslash or a blank, a word starting with # ending the line. It prints
// one word a line. The probe uses it for the patterns of Include lines.
const sshdArgsAwk = `{
	s = $0; t = ""; q = ""; w = 0; n = length(s)
	for (i = 1; i <= n; i++) {
		c = substr(s, i, 1)
		if (q == "" && (c == " " || c == "\t")) { if (w) print t; t = ""; w = 0; continue }
		if (q == "" && c == "#" && !w) break
		if (c == "\\" && i < n) {
			d = substr(s, i + 1, 1)
			if (d == "\\" || d == "\"" || d == "\047" || (d == " " && q == "")) { t = t d; w = 1; i++; continue }
		}
		if (q == "" && (c == "\"" || c == "\047")) { q = c; w = 1; continue }
		if (q != "" && c == q) { q = ""; continue }
		t = t c; w = 1
	}
	if (w) print t
}`

// sshdMatchAwk reads one sshd_config file and prints, for each Match block
// that sets a password-login keyword, its line number and a connection
// specification for sshd -T -C that the block's criteria match: for each
// criterion the first pattern of its list that is not negated, with ? read
// as x and * as nothing (as 1 in an address; a lone * keeps the default),
// an address without its /prefix length. Defaults: user factorgate, host
// factorgate.invalid, addr 192.0.2.1 (TEST-NET-1). A block with a criterion
// it cannot satisfy this way (Group, only negated patterns, an unknown
// criterion) is not printed. The parser checks each specification against
// the block before it trusts what sshd answered.
const sshdMatchAwk = `function flush() {
	if (ml != "" && pw && ok) print ml " user=" u ",host=" h ",addr=" a x
	ml = ""; pw = 0
}
function first(v,   n, it, j) {
	n = split(v, it, ",")
	for (j = 1; j <= n; j++) if (substr(it[j], 1, 1) != "!") return it[j]
	return ""
}
{
	l = $0
	sub(/^[ \t]+/, "", l)
	k = tolower(l)
	sub(/[ \t=].*/, "", k)
}
k == "match" {
	flush()
	ml = FNR
	r = substr(l, 6)
	sub(/^[ \t]*=?[ \t]*/, "", r)
	sub(/[ \t]*#.*/, "", r)
	n = split(r, f, /[ \t]+/)
	u = "factorgate"; h = "factorgate.invalid"; a = "192.0.2.1"; x = ""; ok = 1
	for (i = 1; i <= n; i++) {
		c = tolower(f[i])
		if (c == "" || c == "all") continue
		if (i == n) { ok = 0; break }
		v = first(f[++i])
		if (v == "" || v ~ /[=,]/) { ok = 0; continue }
		gsub(/\?/, "x", v)
		if (c == "address" || c == "localaddress") {
			sub(/\/.*/, "", v)
			if (v != "*") gsub(/\*/, "1", v)
		} else if (v != "*") {
			gsub(/\*/, "", v)
		}
		if (v == "*" || v == "") {
			if (c == "localport") ok = 0
			if (c == "localaddress") x = x ",laddr=127.0.0.1"
			if (c == "rdomain") x = x ",rdomain=default"
			if (c != "user" && c != "host" && c != "address" && c != "localaddress" && c != "localport" && c != "rdomain") ok = 0
			continue
		}
		if (c == "user") u = v
		else if (c == "host") h = v
		else if (c == "address") a = v
		else if (c == "localaddress") x = x ",laddr=" v
		else if (c == "localport") { if (v ~ /^[0-9]+$/) x = x ",lport=" v; else ok = 0 }
		else if (c == "rdomain") x = x ",rdomain=" v
		else ok = 0
	}
	next
}
k ~ /^(passwordauthentication|kbdinteractiveauthentication|challengeresponseauthentication|permitemptypasswords|authenticationmethods|permitrootlogin)$/ {
	if (ml != "") pw = 1
}
END { flush() }`

// sshdAnyConnSpec is the connection the probe asks sshd -T -C about when
// plain sshd -T refuses a configuration with Match blocks (OpenSSH 7.x says
// "'Match Address' in configuration but 'addr' not in connection test
// specification"): a user, host and address that only a Match block for
// every connection (Address *, ...) matches. 192.0.2.1 is TEST-NET-1.
const sshdAnyConnSpec = "user=factorgate,host=factorgate.invalid,addr=192.0.2.1"

// Errors returned by [ParseLinux].
var (
	// ErrLinuxProbeOutput is returned by [ParseLinux] when the output
	// is not the output of [Linux] (no header, or a line that fits no
	// section).
	ErrLinuxProbeOutput = errors.New("probe output was not factorgate's")
	// ErrLinuxTruncated is returned by [ParseLinux] when the
	// output stops before the probe's end marker; the facts of the
	// sections that did arrive are filled in.
	ErrLinuxTruncated = errors.New("probe output was cut short")
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
		return fmt.Errorf("%w: it stops at line %d, before factorgate's end marker%s", ErrLinuxTruncated, p.lines, p.lastSection())
	}
	return nil
}

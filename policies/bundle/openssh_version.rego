# METADATA
# title: OpenSSH server version known and earlier than 8
# description: |
#   Linux only: HSS 2FA protects SSH password logins only when the SSH
#   server is OpenSSH earlier than 8 (params.openssh_max_major, default 7).
#   The version is compared as integers, never as text. The check applies
#   by OS family: a Windows host is exempt because its family is windows
#   (2FA covers RDP there), never because its banner claims OpenSSH for
#   Windows. A limit raised above the seed's (earlier than 8) is shown as
#   a warning on every host that passes only because of it.
#
#   Only OpenSSH is OpenSSH: a server whose identification string names
#   other software (openssh.software, e.g. dropbear_2019.78) fails. The
#   facts must agree with themselves: openssh.major is a positive number
#   that matches the leading M.N of openssh.version and of an OpenSSH
#   banner. An openssh-server package newer than the limit while an older
#   sshd runs (installed, not yet restarted) fails too, unless the facts
#   show the listening sshd is another binary than the packaged ones
#   (params.packaged_sshd_paths).
# custom:
#   sources: [hss_01_0568]
#   severity: high
#   sarif_level: error
#   platforms: [linux]
package factorgate.checks.openssh_version

import future.keywords.not

import data.factorgate.lib

_max := lib.params.openssh_max_major

# _ok is the requirement; the findings below say why it does not hold.
_ok if {
	is_number(input.openssh.major)
	is_number(_max)
	input.openssh.major <= _max
	not _foreign
	not _inconsistent
	not _pending
}

violations contains f if {
	input.os.family == "linux"
	not _ok
	some f in _explained
}

# _explained are the specific findings, or the safety net when none applies.
_explained := _problems if {
	count(_problems) > 0
} else := {lib.unconfirmed("openssh_version")}

_version := input.openssh.version if is_string(input.openssh.version)

_version := sprintf("%d.%d", [input.openssh.major, input.openssh.minor]) if {
	not is_string(input.openssh.version)
	is_number(input.openssh.minor)
}

_version := sprintf("%d", [input.openssh.major]) if {
	not is_string(input.openssh.version)
	not is_number(input.openssh.minor)
}

_problems contains {
	"check": "openssh_version",
	"message": lib.unread("the OpenSSH server version"),
	"remediation": lib.unread_fix("Make sure the SSH server answers with its OpenSSH banner, or let the scanner run ssh -V or query the openssh-server package; HSS 2FA needs OpenSSH earlier than 8 (source: hss_01_0568)"),
	"severity": "high",
} if {
	not is_number(input.openssh.major)
	not _foreign
}

# _foreign is true when the server's identification string names software
# other than OpenSSH.
_foreign if {
	is_string(input.openssh.software)
	not startswith(input.openssh.software, "OpenSSH_")
}

_problems contains {
	"check": "openssh_version",
	"message": sprintf("the SSH server is %s, not OpenSSH", [input.openssh.software]),
	"remediation": "Leave this host out of 2FA, or run OpenSSH earlier than 8 as its SSH server: HSS 2FA hooks SSH password logins of OpenSSH only (source: hss_01_0568)",
	"severity": "high",
} if _foreign

# _m_n is [M, N] from the first "M.N" that pattern (with two groups)
# finds in s.
_m_n(pattern, s) := [to_number(m[1]), to_number(m[2])] if {
	is_string(s)
	m := regex.find_all_string_submatch_n(pattern, s, 1)[0]
}

_running := sprintf("%d.%d", [input.openssh.major, input.openssh.minor]) if {
	is_number(input.openssh.major)
	is_number(input.openssh.minor)
} else := sprintf("%d", [input.openssh.major])

# _agrees is true when [M, N] matches openssh.major (and .minor, when read).
_agrees(mn) if {
	mn[0] == input.openssh.major
	not is_number(input.openssh.minor)
}

_agrees(mn) if {
	mn[0] == input.openssh.major
	mn[1] == input.openssh.minor
}

_inconsistent if some _ in _inconsistencies

_inconsistent_fix := "Scan the host again rather than editing facts: the OpenSSH version fields must come from one reading of the server (source: hss_01_0568)"

_inconsistencies contains sprintf("OpenSSH major version %v is not a version: the facts are inconsistent", [input.openssh.major]) if {
	is_number(input.openssh.major)
	input.openssh.major <= 0
}

# _same_version is true when version s starts with M.N of the facts and
# then ends or goes on with "p" (the portable release, "7.4p1"): the
# common case, decided without a regular expression.
_same_version(s) if {
	s == _running
} else if {
	startswith(s, concat("", [_running, "p"]))
}

_inconsistencies contains sprintf("OpenSSH version %s does not agree with major version %s: the facts are inconsistent", [input.openssh.version, _running]) if {
	is_number(input.openssh.major)
	not _same_version(input.openssh.version)
	mn := _m_n(`^([0-9]+)\.([0-9]+)`, input.openssh.version)
	not _agrees(mn)
}

_inconsistencies contains sprintf("the server's banner %s does not agree with OpenSSH %s: the facts are inconsistent", [input.openssh.banner, _running]) if {
	is_number(input.openssh.major)
	not _same_version(trim_prefix(input.openssh.banner, "SSH-2.0-OpenSSH_"))
	mn := _m_n(`^SSH-[0-9.]+-OpenSSH_(?:for_Windows_)?([0-9]+)\.([0-9]+)`, input.openssh.banner)
	not _agrees(mn)
}

_problems contains {
	"check": "openssh_version",
	"message": msg,
	"remediation": _inconsistent_fix,
	"severity": "high",
} if some msg in _inconsistencies

# _package is the installed openssh-server package: its upstream version
# (epoch and release left out) and major version.
_package := {"version": v, "major": mn[0]} if {
	pv := trim_space(input.openssh.package_version)
	mn := _m_n(`^(?:[0-9]+:)?([0-9]+)\.([0-9]+)`, pv)
	v := split(regex.replace(pv, `^[0-9]+:`, ""), "-")[0]
}

# _other_binary is true when the facts prove the listening sshd is not
# the one the packages install.
_other_binary if {
	input.sshd.listener == "process"
	is_string(input.sshd.binary)
	not input.sshd.binary in {p | some p in lib.params.packaged_sshd_paths}
}

# _pending is true when a package too new for 2FA is installed while an
# older sshd still runs: it takes over at the next restart.
_pending if {
	is_number(_max)
	is_number(input.openssh.major)
	input.openssh.major <= _max
	_package.major > _max
	not _other_binary
}

_problems contains {
	"check": "openssh_version",
	"message": sprintf("OpenSSH %s is installed and replaces the running %s at the next sshd restart", [_package.version, _running]),
	"remediation": sprintf("Install an openssh-server package earlier than %d (and hold it), or leave this host out of 2FA: HSS 2FA protects SSH logins only with OpenSSH %d.x or earlier (source: hss_01_0568)", [_max + 1, _max]),
	"severity": "high",
} if _pending

_problems contains {
	"check": "openssh_version",
	"message": sprintf("OpenSSH %s is too new: HSS 2FA protects SSH logins only with OpenSSH %d.x or earlier", [_version, _max]),
	"remediation": "Leave this host out of 2FA, or protect its SSH logins another way: HSS 2FA hooks SSH password logins only on OpenSSH earlier than 8 (source: hss_01_0568)",
	"severity": "high",
} if {
	is_number(input.openssh.major)
	is_number(_max)
	input.openssh.major > _max
}

_problems contains {
	"check": "openssh_version",
	"message": sprintf("parameter openssh_max_major is %v, not a number", [_max]),
	"remediation": "Set factorgate.params.openssh_max_major to a whole number in the --data file (source: hss_01_0568)",
	"severity": "high",
} if not is_number(_max)

# _seed_max is the limit the product rules state: OpenSSH earlier than 8.
_seed_max := lib.default_params.openssh_max_major

warnings contains {
	"check": "openssh_version",
	"message": sprintf("passes only because openssh_max_major is %v (HSS 2FA works with OpenSSH earlier than 8)", [_max]),
	"remediation": "Lower factorgate.params.openssh_max_major to 7, or confirm with Huawei Cloud that HSS 2FA supports this OpenSSH version (source: hss_01_0568)",
	"severity": "medium",
} if {
	input.os.family == "linux"
	_ok
	input.openssh.major > _seed_max
}

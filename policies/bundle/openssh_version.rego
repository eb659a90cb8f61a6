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
	"message": "the OpenSSH server version could not be read",
	"remediation": "Make sure the SSH server answers with its OpenSSH banner, or let the scanner run ssh -V or query the openssh-server package; HSS 2FA needs OpenSSH earlier than 8 (source: hss_01_0568)",
	"severity": "high",
} if not is_number(input.openssh.major)

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

# METADATA
# title: Linux or Windows
# description: |
#   HSS 2FA covers Linux servers (SSH) and Windows servers (RDP). A host
#   whose operating system family could not be read is not proven to be
#   either.
# custom:
#   sources: [hss_01_0568]
#   severity: high
#   sarif_level: error
#   platforms: [linux, windows]
package factorgate.checks.os_supported

import future.keywords.not

import data.factorgate.lib

# _ok is the requirement; the findings below say why it does not hold.
_ok if input.os.family == "linux"

_ok if input.os.family == "windows"

violations contains f if {
	not _ok
	some f in _explained
}

# _explained are the specific findings, or the safety net when none applies.
_explained := _problems if {
	count(_problems) > 0
} else := {lib.unconfirmed("os_supported")}

_problems contains {
	"check": "os_supported",
	"message": lib.unread("the operating system family"),
	"remediation": lib.unread_fix("Scan again with an account that can read /etc/os-release (Linux) or the Windows version (WinRM); HSS 2FA applies to Linux and Windows servers only (source: hss_01_0568)"),
	"severity": "high",
} if not is_string(input.os.family)

_problems contains {
	"check": "os_supported",
	"message": sprintf("operating system family %q is not supported: HSS 2FA covers Linux and Windows", [input.os.family]),
	"remediation": "Leave this host out of 2FA: HSS 2FA applies to Linux (SSH) and Windows (RDP) servers only (source: hss_01_0568)",
	"severity": "high",
} if {
	is_string(input.os.family)
	not input.os.family in {"linux", "windows"}
}

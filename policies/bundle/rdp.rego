# METADATA
# title: RDP logins enabled
# description: |
#   Windows only: HSS 2FA protects RDP logins, so RDP must be enabled.
#   Warns that RDP from another Windows server to a 2FA server needs a
#   stored credential there, and about security products that may
#   conflict with 2FA.
# custom:
#   sources: [hss_01_0568]
#   severity: high
#   sarif_level: error
#   platforms: [windows]
package factorgate.checks.rdp

import future.keywords.not

import data.factorgate.lib

# _ok is the requirement; the findings below say why it does not hold.
_ok if input.rdp.enabled == true

violations contains f if {
	input.os.family == "windows"
	not _ok
	some f in _explained
}

# _explained are the specific findings, or the safety net when none applies.
_explained := _problems if {
	count(_problems) > 0
} else := {lib.unconfirmed("rdp")}

_unknown_fix := "Let the scanner read HKLM\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\fDenyTSConnections over WinRM; on Windows HSS 2FA protects RDP logins (source: hss_01_0568)"

_problems contains {
	"check": "rdp",
	"message": "the RDP settings could not be read",
	"remediation": _unknown_fix,
	"severity": "high",
} if not is_object(input.rdp)

_problems contains {
	"check": "rdp",
	"message": "whether RDP logins are enabled could not be read",
	"remediation": _unknown_fix,
	"severity": "high",
} if {
	is_object(input.rdp)
	not is_boolean(input.rdp.enabled)
}

_problems contains {
	"check": "rdp",
	"message": sprintf("RDP logins are disabled%s: on Windows, HSS 2FA protects RDP logins", [_by_policy]),
	"remediation": "Allow Remote Desktop connections (System Properties > Remote, or fDenyTSConnections=0; Group Policy overrides the local setting) if the server is to take 2FA (source: hss_01_0568)",
	"severity": "high",
} if input.rdp.enabled == false

default _by_policy := ""

_by_policy := " by Group Policy" if input.rdp.policy_override == true

warnings contains {
	"check": "rdp",
	"message": "once 2FA is on, RDP logins to this server from another Windows server fail unless that server stores a Windows credential for it",
	"remediation": "On each Windows server you connect from: Control Panel > User Accounts > Manage your credentials > Add a Windows credential with this server's user name and password (source: hss_01_0568)",
	"severity": "low",
} if {
	input.os.family == "windows"
	input.rdp.enabled == true
}

warnings contains {
	"check": "rdp",
	"message": sprintf("security products that may conflict with 2FA are installed: %s", [concat(", ", input.security_products)]),
	"remediation": "Check with the vendor, or remove the product, before enabling 2FA: HSS 2FA on Windows may conflict with products such as G01 and 360 Guard (source: Huawei Cloud hss_01_0568)",
	"severity": "medium",
} if {
	input.os.family == "windows"
	count(input.security_products) > 0
}

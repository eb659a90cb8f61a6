# METADATA
# title: RDP logins enabled
# description: |
#   Windows only: HSS 2FA protects RDP logins, so RDP must be enabled:
#   allowed in the registry (fDenyTSConnections, Group Policy first), the
#   Remote Desktop Services service (TermService) not disabled, and the
#   RDP-Tcp listener enabled (fEnableWinStation). Warns when the Remote
#   Desktop firewall rules are disabled, that RDP from this server to
#   another Windows server needs a Windows credential for that server
#   stored here once 2FA is on, and about security products that may
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
_ok if {
	input.rdp.enabled == true
	not _service_disabled
	not input.rdp.win_station_enabled == false
}

_service_disabled if lower(input.rdp.service_start_mode) == "disabled"

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
	"message": lib.unread("the RDP settings"),
	"remediation": lib.unread_fix(_unknown_fix),
	"severity": "high",
} if not is_object(input.rdp)

_problems contains {
	"check": "rdp",
	"message": lib.unread("whether RDP logins are enabled"),
	"remediation": lib.unread_fix(_unknown_fix),
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

_problems contains {
	"check": "rdp",
	"message": "the Remote Desktop Services service (TermService) is disabled: RDP logins are off, and on Windows HSS 2FA protects RDP logins",
	"remediation": "Set the Remote Desktop Services service to start (Set-Service TermService -StartupType Manual, or Automatic) and start it, if the server is to take 2FA (source: hss_01_0568)",
	"severity": "high",
} if _service_disabled

_problems contains {
	"check": "rdp",
	"message": "the RDP-Tcp listener is disabled (fEnableWinStation 0): RDP logins are off, and on Windows HSS 2FA protects RDP logins",
	"remediation": "Set fEnableWinStation to 1 under HKLM\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\WinStations\\RDP-Tcp, if the server is to take 2FA (source: hss_01_0568)",
	"severity": "high",
} if input.rdp.win_station_enabled == false

default _by_policy := ""

_by_policy := " by Group Policy" if input.rdp.policy_override == true

warnings contains {
	"check": "rdp",
	"message": "once 2FA is on, RDP logins from this server to another Windows server fail unless this server stores a Windows credential (user name and password) for that server",
	"remediation": "On this server, for each Windows server you connect to from it: Control Panel > User Accounts > Manage your credentials > Add a Windows credential with that server's address, user name and password (source: hss_01_0568)",
	"severity": "low",
} if {
	input.os.family == "windows"
	_ok
}

warnings contains {
	"check": "rdp",
	"message": "the Remote Desktop firewall rules are disabled: RDP logins from other hosts may be blocked",
	"remediation": "Enable the Remote Desktop rule group in Windows Defender Firewall (Enable-NetFirewallRule -DisplayGroup \"Remote Desktop\") where this server must be reached by RDP (source: hss_01_0568)",
	"severity": "medium",
} if {
	input.os.family == "windows"
	input.rdp.firewall_enabled == false
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

# METADATA
# title: The host was scanned
# description: |
#   The host was scanned. Nothing is known about a host the scanner could
#   not reach, so it cannot be judged eligible (unknown is never eligible).
#   Also warns when the scanner logs in by password: once 2FA is on, SSH
#   password logins are asked for a code and the next scan fails.
# custom:
#   sources: [hss_01_0568]
#   severity: high
#   sarif_level: error
#   platforms: [linux, windows]
package factorgate.checks.reachable

import future.keywords.not

import data.factorgate.lib

default _reason := "no error was recorded"

_reason := input.error if {
	is_string(input.error)
	input.error != ""
}

violations contains {
	"check": "reachable",
	"message": sprintf("the host could not be scanned: %s", [_reason]),
	"remediation": "Check the address, port, credentials and host key of this host, then scan again: 2FA prerequisites can only be checked on a host that was read (source: hss_01_0568)",
	"severity": "high",
} if not input.reachable == true

warnings contains {
	"check": "reachable",
	"message": "the scanner logs in to this host by password: once 2FA is on, SSH password logins are asked for a verification code and later scans will fail",
	"remediation": "Give the scanner an SSH key for this host (identity_file or ssh-agent) before 2FA is enabled; key logins are not asked for a code (source: hss_01_0439)",
	"severity": "medium",
} if {
	input.reachable == true
	input.host.auth == "password"
	not lib.windows
}

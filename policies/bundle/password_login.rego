# METADATA
# title: sshd takes password logins the way 2FA hooks them
# description: |
#   Linux only: HSS 2FA hooks SSH password logins through PAM and
#   keyboard-interactive authentication, so sshd must take them:
#   PasswordAuthentication yes, UsePAM yes, KbdInteractiveAuthentication
#   (ChallengeResponseAuthentication before OpenSSH 8.7) yes and
#   PermitEmptyPasswords no. Warns when PermitRootLogin is not yes: root
#   password logins then fail with 2FA on.
# custom:
#   sources: [hss_01_0568, hss_01_0440]
#   severity: high
#   sarif_level: error
#   platforms: [linux]
package factorgate.checks.password_login

import future.keywords.not

import data.factorgate.lib

# _ok is the requirement; the findings below say why it does not hold.
_ok if {
	input.sshd.password_authentication == true
	input.sshd.use_pam == true
	input.sshd.kbd_interactive_authentication == true
	input.sshd.permit_empty_passwords == false
}

violations contains f if {
	input.os.family == "linux"
	not _ok
	some f in _explained
}

# _explained are the specific findings, or the safety net when none applies.
_explained := _problems if {
	count(_problems) > 0
} else := {lib.unconfirmed("password_login")}

# _settings are the sshd settings 2FA needs, with the value it needs.
_settings := [
	{"field": "password_authentication", "name": "PasswordAuthentication", "want": true},
	{"field": "use_pam", "name": "UsePAM", "want": true},
	{"field": "kbd_interactive_authentication", "name": "KbdInteractiveAuthentication (ChallengeResponseAuthentication)", "want": true},
	{"field": "permit_empty_passwords", "name": "PermitEmptyPasswords", "want": false},
]

_yes_no(true) := "yes"

_yes_no(false) := "no"

_problems contains {
	"check": "password_login",
	"message": "the sshd settings could not be read",
	"remediation": "Let the scanner run sshd -T (root or sudo) or read /etc/ssh/sshd_config; 2FA needs PasswordAuthentication yes, UsePAM yes, ChallengeResponseAuthentication yes and PermitEmptyPasswords no (source: hss_01_0440)",
	"severity": "high",
} if not is_object(input.sshd)

_problems contains {
	"check": "password_login",
	"message": sprintf("the sshd setting %s could not be read", [s.name]),
	"remediation": "Let the scanner run sshd -T (root or sudo) so the effective value is read; 2FA needs PasswordAuthentication yes, UsePAM yes, ChallengeResponseAuthentication yes and PermitEmptyPasswords no (source: hss_01_0440)",
	"severity": "high",
} if {
	is_object(input.sshd)
	some s in _settings
	not is_boolean(input.sshd[s.field])
}

_problems contains {
	"check": "password_login",
	"message": sprintf("sshd has %s %s: 2FA needs %s", [s.name, _yes_no(v), _yes_no(s.want)]),
	"remediation": sprintf("Set %s %s in /etc/ssh/sshd_config and reload sshd (source: hss_01_0440)", [split(s.name, " ")[0], _yes_no(s.want)]),
	"severity": "high",
} if {
	some s in _settings
	v := input.sshd[s.field]
	is_boolean(v)
	v != s.want
}

warnings contains f if {
	input.os.family == "linux"
	not input.sshd.permit_root_login == "yes"
	some f in _root_warnings
}

_root_warnings contains {
	"check": "password_login",
	"message": sprintf("sshd has PermitRootLogin %s: root password logins will fail once 2FA is on", [input.sshd.permit_root_login]),
	"remediation": "Set PermitRootLogin yes in /etc/ssh/sshd_config where root must log in by password, or log in as another user (source: hss_01_0440)",
	"severity": "low",
} if is_string(input.sshd.permit_root_login)

_root_warnings contains {
	"check": "password_login",
	"message": "the sshd setting PermitRootLogin could not be read: root password logins fail with 2FA unless it is yes",
	"remediation": "Let the scanner run sshd -T (root or sudo); root password logins need PermitRootLogin yes with 2FA (source: hss_01_0440)",
	"severity": "low",
} if {
	is_object(input.sshd)
	not is_string(input.sshd.permit_root_login)
}

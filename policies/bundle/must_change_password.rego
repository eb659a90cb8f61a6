# METADATA
# title: 'No enabled account has "User must change password at next logon"'
# description: |
#   Windows only: "User must change password at next logon" is not
#   allowed while 2FA is on. An account that is known to be disabled
#   cannot log in, so its flag does not count; an account whose state
#   could not be read counts as enabled.
# custom:
#   sources: [hss_01_0568]
#   severity: high
#   sarif_level: error
#   platforms: [windows]
package factorgate.checks.must_change_password

import future.keywords.not

import data.factorgate.lib

# _ok is the requirement; the findings below say why it does not hold.
_ok if {
	is_array(input.accounts)
	every a in input.accounts {
		_account_ok(a)
	}
}

# _account_ok: the account cannot log in, or need not change its password.
_account_ok(a) if a.enabled == false

_account_ok(a) if a.must_change_password == false

violations contains f if {
	input.os.family == "windows"
	not _ok
	some f in _explained
}

# _explained are the specific findings, or the safety net when none applies.
_explained := _problems if {
	count(_problems) > 0
} else := {lib.unconfirmed("must_change_password")}

_fix(name) := sprintf("Clear the flag with net user %s /logonpasswordchg:no, or log in once and change the password: HSS 2FA does not allow \"User must change password at next logon\" on Windows (source: hss_01_0568)", [name])

_unknown_fix := "Let the scanner list the local accounts over WinRM (PasswordExpired and UserFlags of WinNT://); HSS 2FA does not allow \"User must change password at next logon\" (source: hss_01_0568)"

# _may_log_in is true unless the account is known to be disabled.
_may_log_in(a) if not a.enabled == false

_problems contains {
	"check": "must_change_password",
	"message": "the local accounts could not be read",
	"remediation": _unknown_fix,
	"severity": "high",
} if not is_array(input.accounts)

_problems contains {
	"check": "must_change_password",
	"message": sprintf("account %s must change its password at next logon", [a.name]),
	"remediation": _fix(a.name),
	"severity": "high",
} if {
	some a in input.accounts
	a.must_change_password == true
	a.enabled == true
}

_problems contains {
	"check": "must_change_password",
	"message": sprintf("account %s must change its password at next logon, and whether it is enabled could not be read", [a.name]),
	"remediation": _fix(a.name),
	"severity": "high",
} if {
	some a in input.accounts
	a.must_change_password == true
	not is_boolean(a.enabled)
}

_problems contains {
	"check": "must_change_password",
	"message": sprintf("whether account %s must change its password at next logon could not be read", [a.name]),
	"remediation": _unknown_fix,
	"severity": "high",
} if {
	some a in input.accounts
	_may_log_in(a)
	not is_boolean(a.must_change_password)
}

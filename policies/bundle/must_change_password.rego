# METADATA
# title: 'No enabled account has "User must change password at next logon"'
# description: |
#   Windows only: "User must change password at next logon" is not
#   allowed while 2FA is on. An account that is known to be disabled
#   cannot log in, so its flag does not count; an account whose state
#   could not be read counts as enabled. An empty account list is unknown
#   (every Windows host has built-in accounts, so the scan missed them). A
#   domain controller (os.domain_role 4 or 5) has no local accounts: the
#   flag cannot be proven clear from them, and the domain accounts must be
#   checked by hand (the check is then waived with that justification).
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
	count(input.accounts) > 0
	not _domain_controller
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

# _domain_controller is true on a domain controller (Win32_ComputerSystem
# DomainRole 4 backup, 5 primary).
_domain_controller if input.os.domain_role in {4, 5}

_problems contains {
	"check": "must_change_password",
	"message": sprintf("this host is a domain controller (domain role %d): it has no local accounts, so whether an account must change its password at next logon cannot be proven from them", [input.os.domain_role]),
	"remediation": "Check the domain accounts that log in to this server: pwdLastSet = 0 means \"User must change password at next logon\" (e.g. Get-ADUser -Filter 'pwdLastSet -eq 0'); clear it, then waive this check for the host with that justification (source: hss_01_0568)",
	"severity": "high",
} if _domain_controller

_problems contains {
	"check": "must_change_password",
	"message": lib.unread("the local accounts"),
	"remediation": lib.unread_fix(_unknown_fix),
	"severity": "high",
} if {
	not is_array(input.accounts)
	not _domain_controller
}

_problems contains {
	"check": "must_change_password",
	"message": sprintf("the scan listed no local accounts, yet every Windows host has built-in ones: %s", [lib.unread("the accounts")]),
	"remediation": lib.unread_fix(_unknown_fix),
	"severity": "high",
} if {
	is_array(input.accounts)
	count(input.accounts) == 0
	not _domain_controller
}

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

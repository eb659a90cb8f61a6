package factorgate.checks.password_login_test

import future.keywords.not

import data.factorgate.checks.password_login
import data.factorgate.fixtures_test as fx

_with_sshd(s) := object.union(fx.linux, {"sshd": s})

test_all_set_passes if {
	count(password_login.violations) == 0 with input as fx.linux
	count(password_login.warnings) == 0 with input as fx.linux
}

test_each_setting_fails if {
	every field, want in {
		"password_authentication": "sshd has PasswordAuthentication no: 2FA needs yes",
		"use_pam": "sshd has UsePAM no: 2FA needs yes",
		"kbd_interactive_authentication": "sshd has KbdInteractiveAuthentication (ChallengeResponseAuthentication) no: 2FA needs yes",
	} {
		vs := password_login.violations with input as _with_sshd({field: false})
		fx.messages(vs) == {want}
	}
}

test_empty_passwords_fail if {
	vs := password_login.violations with input as _with_sshd({"permit_empty_passwords": true})
	fx.messages(vs) == {"sshd has PermitEmptyPasswords yes: 2FA needs no"}
	some v in vs
	v.remediation == "Set PermitEmptyPasswords no in /etc/ssh/sshd_config and reload sshd (source: hss_01_0440)"
}

test_null_sshd_fails if {
	vs := password_login.violations with input as object.union(fx.linux, {"sshd": null})
	fx.messages(vs) == {"the sshd settings could not be read"}
}

test_null_setting_fails if {
	vs := password_login.violations with input as _with_sshd({"use_pam": null})
	fx.messages(vs) == {"the sshd setting UsePAM could not be read"}
}

test_root_login_warns if {
	ws := password_login.warnings with input as _with_sshd({"permit_root_login": "prohibit-password"})
	fx.has(ws, "PermitRootLogin prohibit-password")
	count(password_login.violations) == 0 with input as _with_sshd({"permit_root_login": "prohibit-password"})
}

test_root_login_null_warns if {
	ws := password_login.warnings with input as _with_sshd({"permit_root_login": null})
	fx.has(ws, "PermitRootLogin could not be read")
}

test_windows_not_applied if {
	count(password_login.violations) == 0 with input as fx.windows
}

package factorgate.checks.openssh_version_test

import future.keywords.not

import data.factorgate.checks.openssh_version
import data.factorgate.fixtures_test as fx

_with_openssh(o) := object.union(fx.linux, {"openssh": o})

test_openssh_7_passes if {
	count(openssh_version.violations) == 0 with input as fx.linux
}

test_openssh_8_fails if {
	vs := openssh_version.violations with input as _with_openssh({"version": "8.2p1", "major": 8, "minor": 2})
	fx.messages(vs) == {"OpenSSH 8.2p1 is too new: HSS 2FA protects SSH logins only with OpenSSH 7.x or earlier"}
}

test_openssh_10_fails_compared_as_integers if {
	vs := openssh_version.violations with input as _with_openssh({"version": null, "major": 10, "minor": 0})
	fx.has(vs, "OpenSSH 10.0 is too new")
}

test_version_without_minor if {
	vs := openssh_version.violations with input as _with_openssh({"version": null, "major": 9, "minor": null})
	fx.has(vs, "OpenSSH 9 is too new")
}

test_params_raise_the_limit if {
	count(openssh_version.violations) == 0 with input as _with_openssh({"version": "8.0p1", "major": 8, "minor": 0})
		with data.factorgate.params as {"openssh_max_major": 8}
}

test_bad_param_fails if {
	vs := openssh_version.violations with data.factorgate.params as {"openssh_max_major": "7"}
		with input as fx.linux
	fx.has(vs, "not a number")
}

test_null_openssh_fails if {
	vs := openssh_version.violations with input as object.union(fx.linux, {"openssh": null})
	fx.has(vs, "could not be read")
}

test_null_major_fails if {
	vs := openssh_version.violations with input as _with_openssh({"major": null})
	fx.has(vs, "could not be read")
}

test_windows_not_applied if {
	count(openssh_version.violations) == 0 with input as object.union(fx.windows, {"openssh": {"banner": "SSH-2.0-OpenSSH_for_Windows_8.1", "major": 8, "minor": 1, "windows": true}})
}

test_openssh_for_windows_banner_on_linux_is_judged if {
	vs := openssh_version.violations with input as _with_openssh({"banner": "SSH-2.0-OpenSSH_for_Windows_9.5", "version": "9.5", "major": 9, "minor": 5, "windows": true})
	fx.messages(vs) == {"OpenSSH 9.5 is too new: HSS 2FA protects SSH logins only with OpenSSH 7.x or earlier"}
}

test_openssh_for_windows_flag_unknown_version_is_judged if {
	vs := openssh_version.violations with input as _with_openssh({"major": null, "windows": true})
	fx.has(vs, "could not be read")
}

test_raised_limit_warns if {
	ws := openssh_version.warnings with input as _with_openssh({"version": "8.0p1", "major": 8, "minor": 0})
		with data.factorgate.params as {"openssh_max_major": 9}
	fx.messages(ws) == {"passes only because openssh_max_major is 9 (HSS 2FA works with OpenSSH earlier than 8)"}
}

test_raised_limit_silent_when_not_needed if {
	count(openssh_version.warnings) == 0 with input as fx.linux
		with data.factorgate.params as {"openssh_max_major": 9}
}

test_raised_limit_silent_when_too_new_anyway if {
	count(openssh_version.warnings) == 0 with input as _with_openssh({"version": "10.0p1", "major": 10, "minor": 0})
		with data.factorgate.params as {"openssh_max_major": 9}
}

test_raised_limit_silent_on_windows if {
	count(openssh_version.warnings) == 0 with input as object.union(fx.windows, {"openssh": {"major": 8, "minor": 1, "windows": true}})
		with data.factorgate.params as {"openssh_max_major": 9}
}

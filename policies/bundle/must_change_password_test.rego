package factorgate.checks.must_change_password_test

import future.keywords.not

import data.factorgate.checks.must_change_password as mcp
import data.factorgate.fixtures_test as fx

_with(accounts) := object.union(fx.windows, {"accounts": accounts})

test_no_flag_passes if {
	count(mcp.violations) == 0 with input as fx.windows
}

test_enabled_account_with_flag_fails if {
	vs := mcp.violations with input as _with([{"name": "Administrator", "enabled": true, "must_change_password": true}])
	fx.messages(vs) == {"account Administrator must change its password at next logon"}
}

test_disabled_account_with_flag_passes if {
	count(mcp.violations) == 0 with input as _with([{"name": "Guest", "enabled": false, "must_change_password": true}])
}

test_unknown_enabled_with_flag_fails if {
	vs := mcp.violations with input as _with([{"name": "svc", "enabled": null, "must_change_password": true}])
	fx.has(vs, "whether it is enabled could not be read")
}

test_null_flag_fails if {
	vs := mcp.violations with input as _with([{"name": "svc", "enabled": true, "must_change_password": null}])
	fx.messages(vs) == {"whether account svc must change its password at next logon could not be read"}
}

test_null_flag_of_disabled_account_passes if {
	count(mcp.violations) == 0 with input as _with([{"name": "Guest", "enabled": false, "must_change_password": null}])
}

test_null_accounts_fails if {
	vs := mcp.violations with input as _with(null)
	fx.messages(vs) == {"the local accounts could not be read"}
}

test_linux_not_applied if {
	count(mcp.violations) == 0 with input as fx.linux
}

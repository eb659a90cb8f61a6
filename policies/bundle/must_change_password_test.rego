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

test_empty_accounts_is_unknown if {
	vs := mcp.violations with input as _with([])
	fx.messages(vs) == {"the scan listed no local accounts, yet every Windows host has built-in ones: the accounts could not be read"}
}

test_domain_controller_cannot_be_proven if {
	every role in [4, 5] {
		every accounts in [null, [], fx.windows.accounts] {
			f := object.union(fx.windows, {"os": {"domain_role": role}, "accounts": accounts})
			vs := mcp.violations with input as f
			fx.messages(vs) == {sprintf("this host is a domain controller (domain role %d): it has no local accounts, so whether an account must change its password at next logon cannot be proven from them", [role])}
			some v in vs
			contains(v.remediation, "pwdLastSet = 0")
		}
	}
}

test_member_server_is_judged_by_local_accounts if {
	every role in [2, 3] {
		count(mcp.violations) == 0 with input as object.union(fx.windows, {"os": {"domain_role": role}})
	}
}

test_null_accounts_names_the_probe_error if {
	f := object.union(fx.windows, {"accounts": null, "error": "probe output: accounts: not a JSON array"})
	vs := mcp.violations with input as f
	fx.messages(vs) == {"the local accounts could not be read: probe output: accounts: not a JSON array"}
}

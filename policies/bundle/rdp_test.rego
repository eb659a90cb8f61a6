package factorgate.checks.rdp_test

import future.keywords.not

import data.factorgate.checks.rdp
import data.factorgate.fixtures_test as fx

_with(r) := object.union(fx.windows, {"rdp": r})

test_enabled_passes if {
	count(rdp.violations) == 0 with input as fx.windows
}

test_disabled_fails if {
	vs := rdp.violations with input as _with({"enabled": false})
	fx.messages(vs) == {"RDP logins are disabled: on Windows, HSS 2FA protects RDP logins"}
}

test_disabled_by_policy_says_so if {
	vs := rdp.violations with input as _with({"enabled": false, "policy_override": true})
	fx.has(vs, "disabled by Group Policy")
}

test_null_rdp_fails if {
	vs := rdp.violations with input as object.union(fx.windows, {"rdp": null})
	fx.messages(vs) == {"the RDP settings could not be read"}
}

test_null_enabled_fails if {
	vs := rdp.violations with input as _with({"enabled": null})
	fx.has(vs, "could not be read")
}

test_stored_credentials_warning if {
	ws := rdp.warnings with input as fx.windows
	fx.has(ws, "stores a Windows credential")
}

test_conflicting_product_warns if {
	ws := rdp.warnings with input as object.union(fx.windows, {"security_products": ["360 Guard", "G01"]})
	fx.has(ws, "may conflict with 2FA are installed: 360 Guard, G01")
}

test_no_products_no_conflict_warning if {
	ws := rdp.warnings with input as fx.windows
	not fx.has(ws, "conflict")
}

test_linux_not_applied if {
	count(rdp.violations) == 0 with input as fx.linux
	count(rdp.warnings) == 0 with input as fx.linux
}

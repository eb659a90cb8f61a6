package factorgate.checks.reachable_test

import future.keywords.not

import data.factorgate.checks.reachable
import data.factorgate.fixtures_test as fx

test_reached_passes if {
	count(reachable.violations) == 0 with input as fx.linux
}

test_unreached_fails_with_the_error if {
	vs := reachable.violations with input as fx.unreachable
	fx.has(vs, "could not be scanned: dial tcp 10.0.9.9:22: i/o timeout")
}

test_reachable_null_fails if {
	vs := reachable.violations with input as object.union(fx.linux, {"reachable": null})
	fx.has(vs, "no error was recorded")
}

test_reachable_missing_fails if {
	vs := reachable.violations with input as object.remove(fx.linux, ["reachable"])
	count(vs) == 1
}

test_password_scan_warns if {
	ws := reachable.warnings with input as object.union(fx.linux, {"host": {"auth": "password"}})
	fx.has(ws, "asked for a verification code")
}

test_key_scan_does_not_warn if {
	count(reachable.warnings) == 0 with input as fx.linux
}

test_password_winrm_does_not_warn if {
	count(reachable.warnings) == 0 with input as object.union(fx.windows, {"host": {"auth": "password"}})
}

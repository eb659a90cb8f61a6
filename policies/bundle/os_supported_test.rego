package factorgate.checks.os_supported_test

import future.keywords.not

import data.factorgate.checks.os_supported
import data.factorgate.fixtures_test as fx

test_linux_passes if {
	count(os_supported.violations) == 0 with input as fx.linux
}

test_windows_passes if {
	count(os_supported.violations) == 0 with input as fx.windows
}

test_other_family_fails if {
	vs := os_supported.violations with input as object.union(fx.linux, {"os": {"family": "freebsd"}})
	fx.has(vs, `"freebsd" is not supported`)
}

test_null_os_fails if {
	vs := os_supported.violations with input as object.union(fx.linux, {"os": null})
	fx.has(vs, "could not be read")
}

test_null_family_fails if {
	vs := os_supported.violations with input as object.union(fx.linux, {"os": {"family": null}})
	fx.has(vs, "could not be read")
}

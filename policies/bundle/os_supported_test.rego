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

test_null_os_names_the_probe_error if {
	f := object.union(fx.linux, {"os": null, "error": "probe output: not factorgate's probe output"})
	vs := os_supported.violations with input as f
	fx.messages(vs) == {"the operating system family could not be read: probe output: not factorgate's probe output"}
	some v in vs
	not contains(v.remediation, "/etc/os-release")
}

test_null_os_without_error_keeps_the_advice if {
	vs := os_supported.violations with input as object.union(fx.linux, {"os": null})
	fx.messages(vs) == {"the operating system family could not be read"}
	some v in vs
	contains(v.remediation, "/etc/os-release")
}

test_cloud_part_of_the_error_is_left_out if {
	f := object.union(fx.linux, {"os": null, "error": "probe output: bad marker; cloud: hss: 403 forbidden"})
	vs := os_supported.violations with input as f
	fx.messages(vs) == {"the operating system family could not be read: probe output: bad marker"}
}

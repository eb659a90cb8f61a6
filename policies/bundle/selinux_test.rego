package factorgate.checks.selinux_test

import future.keywords.not

import data.factorgate.checks.selinux
import data.factorgate.fixtures_test as fx

_with(s) := object.union(fx.linux, {"selinux": s})

test_disabled_passes if {
	count(selinux.violations) == 0 with input as fx.linux
}

test_not_installed_passes if {
	count(selinux.violations) == 0 with input as _with({"installed": false, "mode": "disabled", "config_mode": null})
}

test_not_installed_but_enforcing_is_inconsistent if {
	vs := selinux.violations with input as _with({"installed": false, "mode": "enforcing", "config_mode": null})
	fx.messages(vs) == {"SELinux is reported not installed, yet its mode is enforcing: the facts are inconsistent"}
}

test_not_installed_but_permissive_is_inconsistent if {
	vs := selinux.violations with input as _with({"installed": false, "mode": "permissive", "config_mode": "disabled"})
	fx.has(vs, "inconsistent")
}

test_not_installed_mode_unknown_fails if {
	vs := selinux.violations with input as _with({"installed": false, "mode": null, "config_mode": null})
	fx.messages(vs) == {"the SELinux mode could not be read"}
}

test_enforcing_fails if {
	vs := selinux.violations with input as _with({"mode": "enforcing", "config_mode": "enforcing"})
	fx.messages(vs) == {"SELinux is enforcing: 2FA needs it disabled"}
}

test_permissive_is_not_disabled if {
	vs := selinux.violations with input as _with({"mode": "permissive", "config_mode": "permissive"})
	fx.messages(vs) == {"SELinux is permissive: 2FA needs it disabled"}
}

test_off_now_but_enforcing_at_boot_fails if {
	vs := selinux.violations with input as _with({"mode": "disabled", "config_mode": "enforcing"})
	fx.has(vs, "SELINUX=enforcing in /etc/selinux/config turns it back on")
}

test_off_now_but_permissive_at_boot_fails if {
	vs := selinux.violations with input as _with({"mode": "disabled", "config_mode": "permissive"})
	fx.has(vs, "SELINUX=permissive")
}

test_null_selinux_fails if {
	vs := selinux.violations with input as object.union(fx.linux, {"selinux": null})
	fx.messages(vs) == {"the SELinux state could not be read"}
}

test_null_mode_fails if {
	vs := selinux.violations with input as _with({"mode": null})
	fx.messages(vs) == {"the SELinux mode could not be read"}
}

test_null_config_mode_fails if {
	vs := selinux.violations with input as _with({"config_mode": null})
	fx.has(vs, "could not be read")
}

test_windows_not_applied if {
	count(selinux.violations) == 0 with input as fx.windows
}

test_not_installed_with_disabled_config_passes if {
	count(selinux.violations) == 0 with input as _with({"installed": false, "mode": "disabled", "config_mode": "disabled"})
}

test_not_installed_but_enabled_in_config_is_inconsistent if {
	every mode in ["enforcing", "permissive", ""] {
		vs := selinux.violations with input as _with({"installed": false, "mode": "disabled", "config_mode": mode})
		fx.messages(vs) == {sprintf("SELinux is reported not installed, yet SELINUX=%s in /etc/selinux/config: the facts are inconsistent", [mode])}
	}
}

test_null_selinux_names_the_probe_error if {
	vs := selinux.violations with input as object.union(fx.linux, {"selinux": null, "error": "probe output: section selinux: want key=value"})
	fx.messages(vs) == {"the SELinux state could not be read: probe output: section selinux: want key=value"}
}

test_not_installed_without_config_mode_passes if {
	count(selinux.violations) == 0 with input as _with({"installed": false, "mode": "disabled", "config_mode": null})
	s := {"installed": false, "mode": "disabled", "source": "getenforce"}
	count(selinux.violations) == 0 with input as object.union(fx.linux, {"selinux": s}) with input.selinux as s
}

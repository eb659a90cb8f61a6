package factorgate.checks.openssh_version_test

import future.keywords.not

import data.factorgate.checks.openssh_version
import data.factorgate.fixtures_test as fx

_with_openssh(o) := object.union(fx.linux, {"openssh": o})

test_openssh_7_passes if {
	count(openssh_version.violations) == 0 with input as fx.linux
}

test_openssh_8_fails if {
	vs := openssh_version.violations with input as _with_openssh({"banner": "SSH-2.0-OpenSSH_8.2p1 Ubuntu-4ubuntu0.13", "version": "8.2p1", "major": 8, "minor": 2})
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
	count(openssh_version.violations) == 0 with input as _with_openssh({"banner": "SSH-2.0-OpenSSH_8.0", "version": "8.0p1", "major": 8, "minor": 0})
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
	ws := openssh_version.warnings with input as _with_openssh({"banner": "SSH-2.0-OpenSSH_8.0", "version": "8.0p1", "major": 8, "minor": 0})
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

# Only OpenSSH is OpenSSH

test_other_software_fails if {
	o := {"banner": "SSH-2.0-dropbear_2019.78", "software": "dropbear_2019.78", "version": null, "major": null, "minor": null, "source": "banner: not OpenSSH"}
	vs := openssh_version.violations with input as _with_openssh(o)
	fx.messages(vs) == {"the SSH server is dropbear_2019.78, not OpenSSH"}
}

test_other_software_fails_even_with_a_version if {
	vs := openssh_version.violations with input as _with_openssh({"banner": "SSH-2.0-dropbear_2019.78", "software": "dropbear_2019.78", "source": "package"})
	fx.messages(vs) == {"the SSH server is dropbear_2019.78, not OpenSSH"}
}

test_openssh_software_passes if {
	count(openssh_version.violations) == 0 with input as _with_openssh({"software": "OpenSSH_7.4"})
}

# Installed, not yet running

test_newer_package_installed_fails if {
	every pv, want in {
		"8.0p1-19.el8": "OpenSSH 8.0p1 is installed and replaces the running 7.4 at the next sshd restart",
		"1:8.4p1-5+deb11u3": "OpenSSH 8.4p1 is installed and replaces the running 7.4 at the next sshd restart",
		"1:10.0p1-1": "OpenSSH 10.0p1 is installed and replaces the running 7.4 at the next sshd restart",
	} {
		vs := openssh_version.violations with input as _with_openssh({"package_version": pv})
		fx.messages(vs) == {want}
	}
}

test_same_package_passes if {
	every pv in ["7.4p1-22.el7_9", "1:7.9p1-10+deb10u2", "7.4p1"] {
		count(openssh_version.violations) == 0 with input as _with_openssh({"package_version": pv})
	}
}

test_newer_package_with_other_listening_binary_passes if {
	f := object.union(fx.linux, {
		"openssh": {"package_version": "8.0p1-19.el8"},
		"sshd": {"listener": "process", "binary": "/opt/openssh-7.4/sbin/sshd"},
	})
	count(openssh_version.violations) == 0 with input as f
}

test_newer_package_with_packaged_listening_binary_fails if {
	every listener, binary in {"process": "/usr/sbin/sshd", "path": "/opt/openssh-7.4/sbin/sshd"} {
		f := object.union(fx.linux, {
			"openssh": {"package_version": "8.0p1-19.el8"},
			"sshd": {"listener": listener, "binary": binary},
		})
		vs := openssh_version.violations with input as f
		fx.has(vs, "OpenSSH 8.0p1 is installed")
	}
}

test_packaged_paths_param if {
	f := object.union(fx.linux, {
		"openssh": {"package_version": "8.0p1-19.el8"},
		"sshd": {"listener": "process", "binary": "/usr/local/sbin/sshd"},
	})
	vs := openssh_version.violations with input as f
		with data.factorgate.params as {"packaged_sshd_paths": ["/usr/local/sbin/sshd"]}
	fx.has(vs, "OpenSSH 8.0p1 is installed")
}

# Consistency

test_major_must_be_positive if {
	vs := openssh_version.violations with input as _with_openssh({"banner": null, "version": null, "major": 0, "minor": 0})
	fx.messages(vs) == {"OpenSSH major version 0 is not a version: the facts are inconsistent"}
	ws := openssh_version.violations with input as _with_openssh({"banner": null, "version": null, "major": -8, "minor": 0})
	fx.has(ws, "-8 is not a version")
}

test_major_must_agree_with_version if {
	vs := openssh_version.violations with input as _with_openssh({"version": "8.2p1", "banner": null})
	fx.messages(vs) == {"OpenSSH version 8.2p1 does not agree with major version 7.4: the facts are inconsistent"}
}

test_minor_must_agree_with_version if {
	vs := openssh_version.violations with input as _with_openssh({"version": "7.9p1", "banner": null})
	fx.has(vs, "does not agree")
}

test_major_must_agree_with_banner if {
	vs := openssh_version.violations with input as _with_openssh({"banner": "SSH-2.0-OpenSSH_8.4p1 Debian-5+deb11u3"})
	fx.messages(vs) == {"the server's banner SSH-2.0-OpenSSH_8.4p1 Debian-5+deb11u3 does not agree with OpenSSH 7.4: the facts are inconsistent"}
}

test_banner_without_openssh_is_not_compared if {
	count(openssh_version.violations) == 0 with input as _with_openssh({"banner": "SSH-2.0-Go", "source": "package"})
}

test_debian_banner_agrees if {
	o := {"banner": "SSH-2.0-OpenSSH_7.9p1 Debian-10+deb10u2", "version": "7.9p1", "major": 7, "minor": 9, "package_version": "1:7.9p1-10+deb10u2", "software": "OpenSSH_7.9p1"}
	count(openssh_version.violations) == 0 with input as _with_openssh(o)
}

# Probe errors

test_null_openssh_names_the_probe_error if {
	f := object.union(fx.linux, {"openssh": null, "error": "probe output: not factorgate's probe output (no FACTORGATE marker)"})
	vs := openssh_version.violations with input as f
	fx.messages(vs) == {"the OpenSSH server version could not be read: probe output: not factorgate's probe output (no FACTORGATE marker)"}
}

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

# AuthenticationMethods

test_auth_methods_any_passes if {
	count(password_login.violations) == 0 with input as _with_sshd({"authentication_methods": "any"})
}

test_auth_methods_with_a_password_step_pass if {
	every m in [
		"publickey,password",
		"publickey,keyboard-interactive:pam",
		"publickey password",
		"publickey keyboard-interactive",
		"gssapi-with-mic publickey,keyboard-interactive:bsdauth",
	] {
		count(password_login.violations) == 0 with input as _with_sshd({"authentication_methods": m})
	}
}

test_auth_methods_without_password_fail if {
	every m in ["publickey", "publickey,hostbased", "publickey gssapi-with-mic", "publickey,publickey"] {
		vs := password_login.violations with input as _with_sshd({"authentication_methods": m})
		fx.messages(vs) == {sprintf("sshd has AuthenticationMethods %s: no login asks for a password or keyboard-interactive, which is what 2FA protects", [m])}
	}
}

test_auth_methods_absent_from_sshd_config_is_any if {
	s := object.remove(object.union(fx.linux.sshd, {"source": "sshd_config"}), ["authentication_methods"])
	count(password_login.violations) == 0 with input as object.union(fx.linux, {"sshd": s}) with input.sshd as s
	count(password_login.violations) == 0 with input as _with_sshd({"source": "sshd_config", "authentication_methods": null})
}

test_auth_methods_null_from_sshd_t_fails if {
	vs := password_login.violations with input as _with_sshd({"source": "sshd -T", "authentication_methods": null})
	fx.messages(vs) == {"the sshd setting AuthenticationMethods could not be read"}
}

# Match blocks

_block(criteria, all, settings) := {
	"criteria": criteria, "file": "/etc/ssh/sshd_config", "line": 42,
	"all_connections": all, "settings": settings,
}

test_match_all_connections_overrides_global if {
	vs := password_login.violations with input as _with_sshd({"match_blocks": [_block("Address *", true, {"passwordauthentication": "no"})]})
	fx.messages(vs) == {"sshd has PasswordAuthentication no under `Match Address *` (/etc/ssh/sshd_config:42): 2FA needs yes"}
}

test_match_all_connections_can_fix_global if {
	s := {"password_authentication": false, "match_blocks": [_block("all", true, {"passwordauthentication": "yes"})]}
	count(password_login.violations) == 0 with input as _with_sshd(s)
}

test_match_first_block_for_all_connections_wins if {
	s := {"match_blocks": [
		_block("all", true, {"permitemptypasswords": "yes"}),
		_block("User *", true, {"permitemptypasswords": "no"}),
	]}
	vs := password_login.violations with input as _with_sshd(s)
	fx.messages(vs) == {"sshd has PermitEmptyPasswords yes under `Match all` (/etc/ssh/sshd_config:42): 2FA needs no"}
}

test_match_all_connections_auth_methods_fail if {
	s := {"authentication_methods": "any", "match_blocks": [_block("Host *", true, {"authenticationmethods": "publickey"})]}
	vs := password_login.violations with input as _with_sshd(s)
	fx.has(vs, "AuthenticationMethods publickey under `Match Host *`")
}

test_match_user_block_warns if {
	s := {"match_blocks": [_block("User bob", false, {"passwordauthentication": "no"})]}
	count(password_login.violations) == 0 with input as _with_sshd(s)
	ws := password_login.warnings with input as _with_sshd(s)
	fx.messages(ws) == {"password logins of User bob are not protected: PasswordAuthentication no under `Match User bob`, /etc/ssh/sshd_config:42"}
}

test_match_block_each_setting_warns if {
	every settings, want in {
		{"challengeresponseauthentication": "no"}: "ChallengeResponseAuthentication no",
		{"kbdinteractiveauthentication": "No"}: "KbdInteractiveAuthentication No",
		{"permitemptypasswords": "yes"}: "PermitEmptyPasswords yes",
		{"authenticationmethods": "publickey"}: "AuthenticationMethods publickey",
	} {
		ws := password_login.warnings with input as _with_sshd({"match_blocks": [_block("Group ops", false, settings)]})
		fx.messages(ws) == {sprintf("password logins of Group ops are not protected: %s under `Match Group ops`, /etc/ssh/sshd_config:42", [want])}
	}
}

test_match_block_keeping_password_logins_is_silent if {
	s := {"match_blocks": [_block("User bob", false, {"passwordauthentication": "yes", "authenticationmethods": "publickey,password", "permitrootlogin": "yes"})]}
	count(password_login.warnings) == 0 with input as _with_sshd(s)
}

test_match_block_effective_wins if {
	b := object.union(_block("User bob", false, {"passwordauthentication": "no"}), {"effective": {"passwordauthentication": "yes"}})
	count(password_login.warnings) == 0 with input as _with_sshd({"match_blocks": [b]})
	c := object.union(_block("User carol", false, {"challengeresponseauthentication": "yes"}), {"effective": {"kbdinteractiveauthentication": "no"}})
	ws := password_login.warnings with input as _with_sshd({"match_blocks": [c]})
	fx.messages(ws) == {"password logins of User carol are not protected: ChallengeResponseAuthentication no under `Match User carol`, /etc/ssh/sshd_config:42"}
}

test_match_block_effective_wins_for_all_connections if {
	b := object.union(_block("all", true, {"passwordauthentication": "yes"}), {"effective": {"passwordauthentication": "no"}})
	vs := password_login.violations with input as _with_sshd({"match_blocks": [b]})
	fx.has(vs, "PasswordAuthentication no under `Match all`")
}

test_match_block_root_login_warns if {
	s := {"match_blocks": [_block("Address 10.0.0.0/8", false, {"permitrootlogin": "prohibit-password"})]}
	ws := password_login.warnings with input as _with_sshd(s)
	fx.messages(ws) == {"root password logins of Address 10.0.0.0/8 will fail once 2FA is on: PermitRootLogin prohibit-password under `Match Address 10.0.0.0/8`, /etc/ssh/sshd_config:42"}
}

test_match_all_connections_root_login_overrides_global if {
	s := {"match_blocks": [_block("all", true, {"permitrootlogin": "no"})]}
	ws := password_login.warnings with input as _with_sshd(s)
	fx.messages(ws) == {"sshd has PermitRootLogin no under `Match all` (/etc/ssh/sshd_config:42): root password logins will fail once 2FA is on"}
	count(password_login.violations) == 0 with input as _with_sshd(s)
}

test_match_all_connections_judges_the_global_settings_it_leaves if {
	s := {"use_pam": false, "authentication_methods": "publickey", "match_blocks": [_block("all", true, {"passwordauthentication": "yes"})]}
	vs := password_login.violations with input as _with_sshd(s)
	fx.messages(vs) == {
		"sshd has UsePAM no: 2FA needs yes",
		"sshd has AuthenticationMethods publickey: no login asks for a password or keyboard-interactive, which is what 2FA protects",
	}
}

test_match_block_bad_value_for_all_connections_fails if {
	vs := password_login.violations with input as _with_sshd({"match_blocks": [_block("all", true, {"passwordauthentication": "maybe"})]})
	fx.has(vs, "neither yes nor no")
}

# Probe errors

test_null_sshd_names_the_probe_error if {
	f := object.union(fx.linux, {"sshd": null, "error": "probe output: section sshd: unexpected line"})
	vs := password_login.violations with input as f
	fx.messages(vs) == {"the sshd settings could not be read: probe output: section sshd: unexpected line"}
	some v in vs
	startswith(v.remediation, "Fix what the scan reported")
}

test_cloud_error_is_not_a_probe_error if {
	f := object.union(fx.linux, {"sshd": null, "error": "cloud: hss: 403 forbidden"})
	vs := password_login.violations with input as f
	fx.messages(vs) == {"the sshd settings could not be read"}
}

test_unreadable_settings_name_the_sudoers_line if {
	line := "ops ALL=(root) NOPASSWD: /usr/sbin/sshd -T"
	vs := password_login.violations with input as object.union(fx.linux, {"sshd": {
		"password_authentication": null, "kbd_interactive_authentication": null, "use_pam": null,
		"permit_empty_passwords": null, "permit_root_login": null,
		"source": concat("", ["none; sshd -T needs root, sudoers: ", line]),
	}})
	some v in vs
	contains(v.remediation, concat("", ["with this line in /etc/sudoers.d/factorgate: ", line]))
}

test_config_source_with_sudoers_hint_reads_methods_as_any if {
	vs := password_login.violations with input as object.union(fx.linux, {"sshd": object.union(fx.linux.sshd, {
		"source": "sshd_config; sshd -T needs root, sudoers: ops ALL=(root) NOPASSWD: /usr/sbin/sshd -T",
		"authentication_methods": null,
	})})
	count(vs) == 0
}

test_sshd_not_found_by_ancestry_warns if {
	ws := password_login.warnings with input as object.union(fx.linux, {"sshd": object.union(fx.linux.sshd, {
		"listener": "path", "listener_error": "the probe output has no sshd-listener section",
	})})
	fx.has(ws, "the scan could not tell which sshd answered it (the probe output has no sshd-listener section)")
}

test_sshd_found_by_ancestry_does_not_warn if {
	ws := password_login.warnings with input as object.union(fx.linux, {"sshd": object.union(fx.linux.sshd, {
		"listener": "process", "binary": "/usr/sbin/sshd", "config": "/etc/ssh/sshd_config",
	})})
	not fx.has(ws, "could not tell which sshd")
}

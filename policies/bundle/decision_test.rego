package factorgate.decision_test

import future.keywords.not

import data.factorgate.decision
import data.factorgate.fixtures_test as fx

_two_fa := {"hss": {"two_factor": {"enabled": true, "auth_type": "code"}}}

_selinux_on := {"selinux": {"mode": "enforcing", "config_mode": "enforcing"}}

test_status_eligible if {
	d := decision.decision with input as fx.linux
	d.status == "eligible"
	d.eligible == true
	d.violations == []
	d.waived == []
}

test_status_eligible_windows if {
	d := decision.decision with input as fx.windows
	d.status == "eligible"
	d.os == "windows"
}

test_status_ineligible if {
	d := decision.decision with input as object.union(fx.linux, _selinux_on)
	d.status == "ineligible"
	d.eligible == false
	[v.check | some v in d.violations] == ["selinux"]
}

test_status_enabled if {
	d := decision.decision with input as object.union(fx.linux, _two_fa)
	d.status == "enabled"
	d.eligible == true
}

test_status_enabled_ineligible if {
	d := decision.decision with input as object.union(object.union(fx.linux, _two_fa), _selinux_on)
	d.status == "enabled_ineligible"
	d.eligible == false
}

test_status_unreachable_has_only_the_reachable_finding if {
	d := decision.decision with input as fx.unreachable
	d.status == "unreachable"
	d.eligible == false
	[v.check | some v in d.violations] == ["reachable"]
	d.warnings == []
	d.os == null
	d.auth == null
}

test_unknown_fact_is_never_eligible if {
	d := decision.decision with input as object.union(fx.linux, {"openssh": null})
	d.status == "ineligible"
}

test_unknown_two_factor_is_not_enabled if {
	d := decision.decision with input as object.union(fx.linux, {"hss": {"two_factor": null}})
	d.status == "eligible"
}

test_decision_fields if {
	d := decision.decision with input as fx.linux
	d.host == "web-01"
	d.address == "10.0.0.5"
	d.hss_host_id == "a1b2"
	d.auth == "publickey"
	d.labels == {"env": "prod"}
}

test_inventory_host_id_wins if {
	d := decision.decision with input as object.union(fx.linux, {"host": {"hss_host_id": "inv-1"}})
	d.hss_host_id == "inv-1"
}

test_missing_ids_are_null if {
	d := decision.decision with input as object.union(fx.linux, {"host": {"address": "", "labels": null}, "hss": null})
	d.address == ""
	d.hss_host_id == null
	d.labels == null
}

test_violations_sorted_by_check if {
	d := decision.decision with input as object.union(object.union(fx.linux, _selinux_on), {"openssh": {"banner": "SSH-2.0-OpenSSH_8.0", "major": 8, "minor": 0, "version": "8.0p1"}})
	[v.check | some v in d.violations] == ["openssh_version", "selinux"]
}

test_warnings_collected if {
	d := decision.decision with input as object.union(fx.linux, {"host": {"auth": "password"}})
	d.status == "eligible"
	[w.check | some w in d.warnings] == ["reachable"]
	every w in d.warnings {
		w.severity == "medium"
	}
}

# Waivers.

_waiver := {
	"host": "web-*", "selector": null, "check": "selinux",
	"justification": "vendor agent needs SELinux until Q1, CHG-1042", "expires": "2027-01-31",
}

test_waiver_moves_violation_and_status if {
	d := decision.decision with input as object.union(fx.linux, _selinux_on)
		with data.factorgate.waivers as [_waiver]
	d.status == "eligible"
	d.violations == []
	[w.check | some w in d.waived] == ["selinux"]
	d.waived[0].waiver == {"justification": "vendor agent needs SELinux until Q1, CHG-1042", "expires": "2027-01-31"}
}

test_waiver_keeps_enabled if {
	d := decision.decision with input as object.union(object.union(fx.linux, _two_fa), _selinux_on)
		with data.factorgate.waivers as [_waiver]
	d.status == "enabled"
}

test_waiver_other_host_does_not_apply if {
	d := decision.decision with input as object.union(fx.linux, _selinux_on)
		with data.factorgate.waivers as [object.union(_waiver, {"host": "db-*"})]
	d.status == "ineligible"
	d.waived == []
}

test_waiver_glob_spans_dots if {
	inp := object.union(object.union(fx.linux, _selinux_on), {"host": {"name": "web-01.example.com"}})
	d := decision.decision with input as inp with data.factorgate.waivers as [object.union(_waiver, {"host": "web-*"})]
	d.status == "eligible"
}

test_waiver_other_check_does_not_apply if {
	d := decision.decision with input as object.union(fx.linux, _selinux_on)
		with data.factorgate.waivers as [object.union(_waiver, {"check": "rdp"})]
	d.status == "ineligible"
}

test_waiver_any_host_by_selector if {
	w := object.union(_waiver, {"host": "", "selector": {"env": "prod"}})
	d := decision.decision with input as object.union(fx.linux, _selinux_on) with data.factorgate.waivers as [w]
	d.status == "eligible"
}

test_waiver_selector_mismatch if {
	w := object.union(_waiver, {"host": "", "selector": {"env": "staging"}})
	d := decision.decision with input as object.union(fx.linux, _selinux_on) with data.factorgate.waivers as [w]
	d.status == "ineligible"
}

test_waiver_first_match_wins if {
	second := object.union(_waiver, {"justification": "second"})
	d := decision.decision with input as object.union(fx.linux, _selinux_on)
		with data.factorgate.waivers as [_waiver, second]
	d.waived[0].waiver.justification == _waiver.justification
}

test_unreachable_cannot_be_waived if {
	w := object.union(_waiver, {"host": "", "check": "reachable"})
	d := decision.decision with input as fx.unreachable with data.factorgate.waivers as [w]
	d.status == "unreachable"
	count(d.violations) == 1
	d.waived == []
}

# User policies, wired in as [package, finding] pairs.

test_user_violation_makes_host_ineligible if {
	d := decision.decision with input as fx.linux
		with data.factorgate.extensions.violations as {["acme.banner", "login banner is missing"]}
	d.status == "ineligible"
	d.violations == [{"check": "acme.banner", "message": "login banner is missing", "remediation": "", "severity": "high"}]
}

test_user_finding_object_is_completed if {
	f := {"check": "banner", "message": "no banner", "remediation": "set Banner"}
	d := decision.decision with input as fx.linux
		with data.factorgate.extensions.violations as {["acme", f]}
	d.violations == [{"check": "banner", "message": "no banner", "remediation": "set Banner", "severity": "high"}]
}

test_user_finding_of_other_type_is_shown if {
	d := decision.decision with input as fx.linux
		with data.factorgate.extensions.violations as {["acme", 42]}
	d.violations[0].message == "42"
}

test_user_warning_keeps_host_eligible if {
	d := decision.decision with input as fx.linux
		with data.factorgate.extensions.warnings as {["acme", {"msg": "old kernel"}]}
	d.status == "eligible"
	d.warnings == [{"check": "acme", "message": "old kernel", "remediation": "", "severity": "low"}]
}

test_user_violation_can_be_waived if {
	w := {"host": "", "selector": null, "check": "acme", "justification": "ok", "expires": "2027-01-01"}
	d := decision.decision with input as fx.linux
		with data.factorgate.extensions.violations as {["acme", "x"]}
		with data.factorgate.waivers as [w]
	d.status == "eligible"
}

test_user_findings_ignored_when_unreachable if {
	d := decision.decision with input as fx.unreachable
		with data.factorgate.extensions.violations as {["acme", "x"]}
	[v.check | some v in d.violations] == ["reachable"]
}

test_params_default if {
	data.factorgate.lib.params == {"openssh_max_major": 7, "auth_mode": "code", "packaged_sshd_paths": ["/usr/sbin/sshd", "/usr/bin/sshd", "/sbin/sshd"]}
}

test_params_override_key_by_key if {
	p := data.factorgate.lib.params with data.factorgate.params as {"auth_mode": "sms"}
	p == {"openssh_max_major": 7, "auth_mode": "sms", "packaged_sshd_paths": ["/usr/sbin/sshd", "/usr/bin/sshd", "/sbin/sshd"]}
}

test_every_check_with_warnings_reaches_the_decision if {
	d1 := decision.decision with input as object.union(fx.linux, {"sshd": {"permit_root_login": "no"}})
	[w.check | some w in d1.warnings] == ["password_login"]
	d2 := decision.decision with input as object.union(fx.linux, {"hss": {"host_id": null, "agent_status": null, "protect_status": null, "host_status": null}})
	[w.check | some w in d2.warnings] == ["protection"]
	d3 := decision.decision with input as fx.windows
	[w.check | some w in d3.warnings] == ["rdp"]
}

test_every_check_with_violations_reaches_the_decision if {
	inp := object.union(fx.linux, {
		"os": {"family": "linux"},
		"openssh": null, "sshd": null, "selinux": null, "hss": null,
	})
	d := decision.decision with input as inp with data.factorgate.params as {"auth_mode": "sms"}
	{v.check | some v in d.violations} == {"openssh_version", "password_login", "selinux", "protection", "topic"}
	dw := decision.decision with input as object.union(fx.windows, {"rdp": null, "accounts": null})
	{v.check | some v in dw.violations} == {"rdp", "must_change_password"}
	do := decision.decision with input as object.union(fx.linux, {"os": null})
	{v.check | some v in do.violations} == {"os_supported"}
}

# The safety net: a check whose requirement fails without a specific
# finding still gives a violation, so no host is eligible by omission.
test_unconfirmed_requirement_is_a_violation if {
	every name, inp in {
		"os_supported": object.union(fx.linux, {"os": {"family": "plan9"}}),
		"openssh_version": object.union(fx.linux, {"openssh": {"major": 9}}),
		"password_login": object.union(fx.linux, {"sshd": {"use_pam": false}}),
		"selinux": object.union(fx.linux, {"selinux": {"mode": "enforcing"}}),
		"rdp": object.union(fx.windows, {"rdp": {"enabled": false}}),
		"must_change_password": object.union(fx.windows, {"accounts": null}),
		"protection": object.union(fx.linux, {"hss": {"protect_status": "closed"}}),
	} {
		d := decision.decision with input as inp
			with data.factorgate.checks.os_supported._problems as set()
			with data.factorgate.checks.openssh_version._problems as set()
			with data.factorgate.checks.password_login._problems as set()
			with data.factorgate.checks.selinux._problems as set()
			with data.factorgate.checks.rdp._problems as set()
			with data.factorgate.checks.must_change_password._problems as set()
			with data.factorgate.checks.protection._problems as set()
		[v.message | some v in d.violations] == [sprintf("the %s requirement could not be confirmed from the facts", [name])]
		d.status == "ineligible"
	}
	dt := decision.decision with input as fx.linux
		with data.factorgate.params as {"auth_mode": "sms"}
		with data.factorgate.checks.topic._problems as set()
	[v.message | some v in dt.violations] == ["the topic requirement could not be confirmed from the facts"]
}

test_raised_openssh_limit_warns_in_the_decision if {
	d := decision.decision with input as object.union(fx.linux, {"openssh": {"banner": "SSH-2.0-OpenSSH_8.0", "version": "8.0p1", "major": 8, "minor": 0}})
		with data.factorgate.params as {"openssh_max_major": 8}
	d.status == "eligible"
	[[w.check, w.message] | some w in d.warnings] == [["openssh_version", "passes only because openssh_max_major is 8 (HSS 2FA works with OpenSSH earlier than 8)"]]
}

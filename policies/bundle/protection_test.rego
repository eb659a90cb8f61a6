package factorgate.checks.protection_test

import future.keywords.not

import data.factorgate.checks.protection
import data.factorgate.fixtures_test as fx

_with(h) := object.union(fx.linux, {"hss": h})

_local := {"host_id": null, "agent_status": null, "protect_status": null, "host_status": null, "two_factor": null}

test_online_and_opened_passes if {
	count(protection.violations) == 0 with input as fx.linux
	count(protection.warnings) == 0 with input as fx.linux
}

test_agent_offline_fails if {
	vs := protection.violations with input as _with({"agent_status": "offline"})
	fx.messages(vs) == {"the HSS agent is offline, not online"}
}

test_protection_closed_fails if {
	vs := protection.violations with input as _with({"protect_status": "closed"})
	fx.messages(vs) == {"server protection is closed, not opened"}
}

test_cloud_status_null_fails if {
	vs := protection.violations with input as _with({"protect_status": null})
	fx.messages(vs) == {"the HSS API did not report the protection status of this host"}
}

test_null_hss_fails if {
	vs := protection.violations with input as object.union(fx.linux, {"hss": null})
	fx.has(vs, "could not be read")
}

test_no_cloud_running_agent_warns if {
	count(protection.violations) == 0 with input as _with(_local)
	ws := protection.warnings with input as _with(_local)
	fx.has(ws, "not verified")
}

test_no_cloud_no_agent_fails if {
	vs := protection.violations with input as _with(object.union(_local, {"agent_installed": false, "agent_running": false}))
	fx.messages(vs) == {"the HSS agent is not installed"}
}

test_no_cloud_stopped_agent_fails if {
	vs := protection.violations with input as _with(object.union(_local, {"agent_running": false}))
	fx.messages(vs) == {"the HSS agent is installed but not running"}
}

test_no_cloud_unknown_agent_fails if {
	vs := protection.violations with input as _with(object.union(_local, {"agent_installed": null, "agent_running": null}))
	fx.has(vs, "could not be read")
}

test_applies_to_windows if {
	vs := protection.violations with input as object.union(fx.windows, {"hss": {"protect_status": "closed"}})
	count(vs) == 1
}

test_cloud_asked_but_silent_fails if {
	h := object.union(_local, {"cloud_queried": true, "cloud_error": "HSS.1001 server has no agent"})
	vs := protection.violations with input as _with(h)
	fx.messages(vs) == {
		"the HSS API did not report the agent status of this host: HSS.1001 server has no agent",
		"the HSS API did not report the protection status of this host: HSS.1001 server has no agent",
	}
	ws := protection.warnings with input as _with(h)
	count(ws) == 0
}

test_cloud_asked_and_answered_passes if {
	count(protection.violations) == 0 with input as _with({"cloud_queried": true})
}

test_null_hss_names_the_probe_error if {
	vs := protection.violations with input as object.union(fx.linux, {"hss": null, "error": "probe output: hss: want an object"})
	fx.messages(vs) == {"the HSS agent and protection state could not be read: probe output: hss: want an object"}
}

test_agent_unknown_names_the_probe_error if {
	h := {"agent_installed": null, "agent_running": null, "host_id": null, "agent_status": null, "protect_status": null, "host_status": null, "two_factor": null}
	vs := protection.violations with input as object.union(fx.linux, {"hss": h, "error": "probe output: agent: unexpected line"})
	fx.messages(vs) == {"whether the HSS agent runs could not be read (probe output: agent: unexpected line), and the scan read no cloud facts"}
}

test_hss_name_differs_warns if {
	ws := protection.warnings with input as object.union(fx.linux, {"hss": object.union(fx.linux.hss, {"host_name": "db-07"})})
	fx.has(ws, `HSS knows this server as "db-07"`)
}

test_no_hss_name_does_not_warn if {
	ws := protection.warnings with input as fx.linux
	not fx.has(ws, "HSS knows this server as")
}

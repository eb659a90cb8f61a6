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

test_stored_credentials_warning_says_from_this_server if {
	ws := rdp.warnings with input as fx.windows
	fx.messages(ws) == {"once 2FA is on, RDP logins from this server to another Windows server fail unless this server stores a Windows credential (user name and password) for that server"}
	some w in ws
	startswith(w.remediation, "On this server, for each Windows server you connect to from it:")
}

test_service_disabled_fails if {
	every mode in ["Disabled", "disabled"] {
		vs := rdp.violations with input as _with({"enabled": true, "service_start_mode": mode})
		fx.messages(vs) == {"the Remote Desktop Services service (TermService) is disabled: RDP logins are off, and on Windows HSS 2FA protects RDP logins"}
		ws := rdp.warnings with input as _with({"enabled": true, "service_start_mode": mode})
		not fx.has(ws, "stores a Windows credential")
	}
}

test_service_manual_or_auto_passes if {
	every mode in ["Manual", "Auto"] {
		count(rdp.violations) == 0 with input as _with({"enabled": true, "service_start_mode": mode, "win_station_enabled": true})
	}
}

test_win_station_disabled_fails if {
	vs := rdp.violations with input as _with({"enabled": true, "win_station_enabled": false})
	fx.messages(vs) == {"the RDP-Tcp listener is disabled (fEnableWinStation 0): RDP logins are off, and on Windows HSS 2FA protects RDP logins"}
}

test_firewall_disabled_warns if {
	r := {"enabled": true, "firewall_enabled": false}
	count(rdp.violations) == 0 with input as _with(r)
	ws := rdp.warnings with input as _with(r)
	fx.has(ws, "the Remote Desktop firewall rules are disabled")
	ws2 := rdp.warnings with input as _with({"enabled": true, "firewall_enabled": true})
	not fx.has(ws2, "firewall")
}

test_null_rdp_names_the_probe_error if {
	vs := rdp.violations with input as object.union(fx.windows, {"rdp": null, "error": "probe output: rdp: want an object"})
	fx.messages(vs) == {"the RDP settings could not be read: probe output: rdp: want an object"}
}

# METADATA
# title: HSS agent online and server protection opened
# description: |
#   Server protection must be enabled before 2FA: the HSS agent online and
#   protection "opened", as the HSS API reports them. Without cloud facts a
#   running agent is only a warning (protection not verified); no agent, or
#   an agent that does not run, is a violation.
# custom:
#   sources: [hss_01_0568, hss_01_0260]
#   severity: high
#   sarif_level: error
#   platforms: [linux, windows]
package factorgate.checks.protection

import future.keywords.not

import data.factorgate.lib

# _ok is the requirement; the findings below say why it does not hold.
_ok if {
	input.hss.agent_status == "online"
	input.hss.protect_status == "opened"
}

# Without cloud facts, a running agent passes with a warning.
_ok if {
	not _cloud
	input.hss.agent_running == true
	not input.hss.agent_installed == false
}

violations contains f if {
	not _ok
	some f in _explained
}

# _explained are the specific findings, or the safety net when none applies.
_explained := _problems if {
	count(_problems) > 0
} else := {lib.unconfirmed("protection")}

_fix := "Install the HSS agent if needed and enable server protection for this host in the HSS console (source: hss_01_0260, hss_01_0568)"

_unknown_fix := "Scan with cloud credentials so the HSS API reports the agent and protection status; 2FA needs server protection enabled (source: hss_01_0568)"

# _cloud is true when the scan asked the HSS API about the host (then a
# null status means HSS could not say, never that nobody asked).
_cloud if input.hss.cloud_queried == true

_cloud if {
	some k in ["host_id", "agent_status", "protect_status", "host_status"]
	is_string(input.hss[k])
}

default _cloud_error := ""

_cloud_error := sprintf(": %s", [input.hss.cloud_error]) if {
	is_string(input.hss.cloud_error)
	input.hss.cloud_error != ""
}

_problems contains {
	"check": "protection",
	"message": lib.unread("the HSS agent and protection state"),
	"remediation": lib.unread_fix(_unknown_fix),
	"severity": "high",
} if not is_object(input.hss)

# With cloud facts: the HSS API is the authority.

_problems contains {
	"check": "protection",
	"message": sprintf("the HSS agent is %s, not online", [input.hss.agent_status]),
	"remediation": _fix,
	"severity": "high",
} if {
	_cloud
	is_string(input.hss.agent_status)
	input.hss.agent_status != "online"
}

_problems contains {
	"check": "protection",
	"message": sprintf("server protection is %s, not opened", [input.hss.protect_status]),
	"remediation": _fix,
	"severity": "high",
} if {
	_cloud
	is_string(input.hss.protect_status)
	input.hss.protect_status != "opened"
}

_problems contains {
	"check": "protection",
	"message": sprintf("the HSS API did not report the %s of this host%s", [name, _cloud_error]),
	"remediation": _unknown_fix,
	"severity": "high",
} if {
	_cloud
	some k, name in {"agent_status": "agent status", "protect_status": "protection status"}
	not is_string(input.hss[k])
}

# Without cloud facts: only the host's own view of the agent.

_problems contains {
	"check": "protection",
	"message": "the HSS agent is not installed",
	"remediation": _fix,
	"severity": "high",
} if {
	is_object(input.hss)
	not _cloud
	input.hss.agent_installed == false
}

_problems contains {
	"check": "protection",
	"message": "the HSS agent is installed but not running",
	"remediation": _fix,
	"severity": "high",
} if {
	is_object(input.hss)
	not _cloud
	not input.hss.agent_installed == false
	input.hss.agent_running == false
}

_problems contains {
	"check": "protection",
	"message": _agent_unread,
	"remediation": lib.unread_fix(_unknown_fix),
	"severity": "high",
} if {
	is_object(input.hss)
	not _cloud
	not input.hss.agent_installed == false
	not is_boolean(input.hss.agent_running)
}

_agent_unread := "whether the HSS agent runs could not be read, and the scan read no cloud facts" if {
	lib.probe_error == ""
} else := sprintf("whether the HSS agent runs could not be read (%s), and the scan read no cloud facts", [lib.probe_error])

warnings contains {
	"check": "protection",
	"message": "server protection not verified: the HSS agent runs, but the scan read no cloud facts",
	"remediation": "Scan with cloud credentials (HSS API) to confirm the agent is online and protection is opened (source: hss_01_0260, hss_01_0568)",
	"severity": "medium",
} if {
	input.hss.agent_running == true
	not _cloud
}

# HSS lists the matched server under another name (the scan sets
# hss.host_name only then): it was matched by IP address (or by
# hss_host_id), so it may be another server.
warnings contains {
	"check": "protection",
	"message": sprintf("HSS knows this server as %q, another name than the inventory's: it was matched by IP address (or by hss_host_id); check that it is the same server", [input.hss.host_name]),
	"remediation": "Set hss_host_id in the inventory to the HSS host id of this server (source: hss_01_0568)",
	"severity": "low",
} if {
	is_string(input.hss.host_name)
	input.hss.host_name != ""
}

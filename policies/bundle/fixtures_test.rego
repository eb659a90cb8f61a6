# METADATA
# description: Facts shared by the unit tests of the bundle.
package factorgate.fixtures_test

import future.keywords.not

# linux is an eligible CentOS 7 host with cloud facts.
linux := {
	"schema": "factorgate/facts/v1",
	"host": {
		"name": "web-01", "address": "10.0.0.5", "port": 22, "transport": "ssh",
		"auth": "publickey", "labels": {"env": "prod"}, "hss_host_id": null,
	},
	"collected_at": "2026-11-27T06:00:00Z",
	"reachable": true,
	"error": null,
	"os": {
		"family": "linux", "id": "centos", "name": "CentOS Linux",
		"version": "7.9.2009", "kernel": "3.10.0-1160.el7.x86_64",
	},
	"openssh": {
		"banner": "SSH-2.0-OpenSSH_7.4", "version": "7.4p1",
		"major": 7, "minor": 4, "source": "banner",
	},
	"sshd": {
		"password_authentication": true, "kbd_interactive_authentication": true,
		"use_pam": true, "permit_empty_passwords": false,
		"permit_root_login": "yes", "source": "sshd -T",
	},
	"selinux": {"installed": true, "mode": "disabled", "config_mode": "disabled", "source": "getenforce"},
	"rdp": null,
	"accounts": null,
	"hss": {
		"agent_installed": true, "agent_running": true, "host_id": "a1b2",
		"agent_status": "online", "protect_status": "opened", "host_status": "ACTIVE",
		"two_factor": {"enabled": false, "auth_type": null, "topic_urn": null},
	},
	"security_products": null,
	"topic": null,
}

# windows is an eligible Windows Server 2019 host with cloud facts.
windows := object.union(linux, {
	"host": {"name": "win-01", "address": "10.0.0.9", "port": 5986, "transport": "winrm", "auth": "ntlm"},
	"os": {"family": "windows", "id": "windows", "name": "Windows Server 2019", "version": "10.0.17763", "kernel": null},
	"openssh": null,
	"sshd": null,
	"selinux": null,
	"rdp": {"enabled": true, "port": 3389, "nla": true},
	"accounts": [
		{"name": "Administrator", "enabled": true, "must_change_password": false},
		{"name": "Guest", "enabled": false, "must_change_password": true},
	],
	"security_products": [],
})

# unreachable is a host the scanner could not reach.
unreachable := {
	"schema": "factorgate/facts/v1",
	"host": {"name": "old-01", "address": "10.0.9.9", "port": 22, "transport": "ssh", "auth": null, "labels": {}, "hss_host_id": null},
	"collected_at": "2026-11-27T06:00:00Z",
	"reachable": false,
	"error": "dial tcp 10.0.9.9:22: i/o timeout",
	"os": null, "openssh": null, "sshd": null, "selinux": null, "rdp": null,
	"accounts": null, "hss": null, "security_products": null, "topic": null,
}

# messages are the messages of a set of findings.
messages(fs) := {f.message | some f in fs}

# has is true when some finding of fs has a message containing s.
has(fs, s) if {
	some f in fs
	contains(f.message, s)
}

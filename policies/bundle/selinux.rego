# METADATA
# title: SELinux permanently disabled
# description: |
#   Linux only: SELinux must be disabled permanently before 2FA is enabled:
#   off now and SELINUX=disabled in /etc/selinux/config, or not installed
#   at all (mode disabled, and no SELINUX= other than disabled; a host
#   reported not installed yet in another mode, or with a config file that
#   enables it, is inconsistent and not eligible). Permissive is not
#   disabled, and SELinux switched off with setenforce but enforcing or
#   permissive in its config file comes back at the next boot.
# custom:
#   sources: [hss_01_0568, hss_01_0472]
#   severity: high
#   sarif_level: error
#   platforms: [linux]
package factorgate.checks.selinux

import future.keywords.not

import data.factorgate.lib

# _ok is the requirement; the findings below say why it does not hold.
_ok if {
	input.selinux.mode == "disabled"
	input.selinux.config_mode == "disabled"
}

_ok if {
	input.selinux.installed == false
	input.selinux.mode == "disabled"
	_no_config_mode
}

_no_config_mode if object.get(input.selinux, "config_mode", null) == null

_no_config_mode if input.selinux.config_mode == "disabled"

violations contains f if {
	input.os.family == "linux"
	not _ok
	some f in _explained
}

# _explained are the specific findings, or the safety net when none applies.
_explained := _problems if {
	count(_problems) > 0
} else := {lib.unconfirmed("selinux")}

_fix := "Set SELINUX=disabled in /etc/selinux/config and reboot; setenforce 0 lasts only until the next boot (source: hss_01_0472, hss_01_0568)"

_unknown_fix := "Let the scanner run getenforce and read /etc/selinux/config; 2FA needs SELinux disabled permanently (source: hss_01_0472)"

_problems contains {
	"check": "selinux",
	"message": lib.unread("the SELinux state"),
	"remediation": lib.unread_fix(_unknown_fix),
	"severity": "high",
} if not is_object(input.selinux)

_problems contains {
	"check": "selinux",
	"message": lib.unread("the SELinux mode"),
	"remediation": lib.unread_fix(_unknown_fix),
	"severity": "high",
} if {
	is_object(input.selinux)
	not is_string(input.selinux.mode)
}

_problems contains {
	"check": "selinux",
	"message": sprintf("SELinux is %s: 2FA needs it disabled", [input.selinux.mode]),
	"remediation": _fix,
	"severity": "high",
} if {
	is_string(input.selinux.mode)
	input.selinux.mode != "disabled"
	not input.selinux.installed == false
}

_problems contains {
	"check": "selinux",
	"message": sprintf("SELinux is reported not installed, yet its mode is %s: the facts are inconsistent", [input.selinux.mode]),
	"remediation": "Check the host by hand (getenforce, /etc/selinux/config) and scan it again; 2FA needs SELinux disabled permanently (source: hss_01_0472)",
	"severity": "high",
} if {
	input.selinux.installed == false
	is_string(input.selinux.mode)
	input.selinux.mode != "disabled"
}

_problems contains {
	"check": "selinux",
	"message": lib.unread("SELinux is off now, but its mode at next boot (SELINUX= in /etc/selinux/config)"),
	"remediation": lib.unread_fix(_unknown_fix),
	"severity": "high",
} if {
	input.selinux.mode == "disabled"
	not is_string(input.selinux.config_mode)
}

_problems contains {
	"check": "selinux",
	"message": sprintf("SELinux is off now, but SELINUX=%s in /etc/selinux/config turns it back on at the next boot", [input.selinux.config_mode]),
	"remediation": _fix,
	"severity": "high",
} if {
	input.selinux.mode == "disabled"
	is_string(input.selinux.config_mode)
	input.selinux.config_mode != "disabled"
	not input.selinux.installed == false
}

_problems contains {
	"check": "selinux",
	"message": sprintf("SELinux is reported not installed, yet SELINUX=%s in /etc/selinux/config: the facts are inconsistent", [input.selinux.config_mode]),
	"remediation": "Check the host by hand (getenforce, /etc/selinux/config) and scan it again; 2FA needs SELinux disabled permanently (source: hss_01_0472)",
	"severity": "high",
} if {
	input.selinux.installed == false
	input.selinux.mode == "disabled"
	is_string(input.selinux.config_mode)
	input.selinux.config_mode != "disabled"
}

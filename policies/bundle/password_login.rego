# METADATA
# title: sshd takes password logins the way 2FA hooks them
# description: |
#   Linux only: HSS 2FA hooks SSH password logins through PAM and
#   keyboard-interactive authentication, so sshd must take them:
#   PasswordAuthentication yes, UsePAM yes, KbdInteractiveAuthentication
#   (ChallengeResponseAuthentication before OpenSSH 8.7) yes,
#   PermitEmptyPasswords no, and an AuthenticationMethods under which some
#   login asks for a password: "any", or a method list (lists are
#   separated by spaces, methods by commas) that holds password or
#   keyboard-interactive (with or without a ":submethod"). A list such as
#   "publickey,password" still takes a password step, which 2FA hooks;
#   "publickey" alone leaves 2FA nothing to protect.
#
#   AuthenticationMethods absent from the facts is sshd's default, any
#   (facts read from sshd_config, where the keyword is simply not written,
#   and facts of scanners older than the field); null read from sshd -T,
#   which always prints it, means it could not be read.
#
#   Match blocks (sshd.match_blocks): a block that applies to every
#   connection (all_connections) overrides the global settings for this
#   check, the first such block in file order winning as in sshd. Any
#   other block that turns a password-login setting off is a warning
#   naming who loses protection and where. A block's effective values (what
#   sshd -T -C resolved for a connection it matches) win over the values
#   written in it.
#
#   Warns when PermitRootLogin is not yes, globally or in a Match block:
#   root password logins then fail with 2FA on.
# custom:
#   sources: [hss_01_0568, hss_01_0440]
#   severity: high
#   sarif_level: error
#   platforms: [linux]
package factorgate.checks.password_login

import future.keywords.not

import data.factorgate.lib

# _settings are the yes/no sshd settings 2FA needs, with the value it
# needs and the keywords a Match block may set them with.
_settings := [
	{"field": "password_authentication", "name": "PasswordAuthentication", "want": true, "keys": ["passwordauthentication"]},
	{"field": "use_pam", "name": "UsePAM", "want": true, "keys": []},
	{"field": "kbd_interactive_authentication", "name": "KbdInteractiveAuthentication (ChallengeResponseAuthentication)", "want": true, "keys": ["kbdinteractiveauthentication", "challengeresponseauthentication"]},
	{"field": "permit_empty_passwords", "name": "PermitEmptyPasswords", "want": false, "keys": ["permitemptypasswords"]},
]

# _keyword names the Match-block keys as sshd_config spells them.
_keyword := {
	"passwordauthentication": "PasswordAuthentication",
	"kbdinteractiveauthentication": "KbdInteractiveAuthentication",
	"challengeresponseauthentication": "ChallengeResponseAuthentication",
	"permitemptypasswords": "PermitEmptyPasswords",
	"authenticationmethods": "AuthenticationMethods",
	"permitrootlogin": "PermitRootLogin",
}

# _ok is the requirement; the findings below say why it does not hold.
# Without a Match block for every connection the global settings decide
# alone (the common case, kept cheap).
_ok if {
	not _has_global
	input.sshd.password_authentication == true
	input.sshd.use_pam == true
	input.sshd.kbd_interactive_authentication == true
	input.sshd.permit_empty_passwords == false
	_any_method
}

_ok if {
	_has_global
	is_object(input.sshd)
	every s in _settings {
		_judged[s.field].value == s.want
	}
	_password_method(_methods.value)
}

# _any_method: AuthenticationMethods is absent (sshd's default, any) or
# lets some login ask for a password.
_any_method if object.get(input.sshd, "authentication_methods", "any") == "any"

_any_method if _password_method(_methods.value)

violations contains f if {
	input.os.family == "linux"
	not _ok
	some f in _explained
}

# _explained are the specific findings, or the safety net when none applies.
_explained := _problems if {
	count(_problems) > 0
} else := {lib.unconfirmed("password_login")}

_yes_no(true) := "yes"

_yes_no(false) := "no"

_bool(s) := true if lower(trim_space(s)) == "yes"

_bool(s) := false if lower(trim_space(s)) == "no"

# Match blocks ------------------------------------------------------------

default _blocks := []

_blocks := input.sshd.match_blocks if is_array(input.sshd.match_blocks)

# _sets is true when block b writes one of keys.
_sets(b, keys) if {
	some k in keys
	is_string(b.settings[k])
}

# _written is the first of keys that block b writes.
_written(b, keys) := [k | some k in keys; is_string(b.settings[k])][0]

# _raw is block b's value for keys: the effective one when sshd resolved
# it, else the one written in the block.
_raw(b, keys) := vs[0] if {
	is_object(b.effective)
	vs := [v | some k in keys; v := b.effective[k]; is_string(v)]
	count(vs) > 0
} else := vs[0] if {
	vs := [v | some k in keys; v := b.settings[k]; is_string(v)]
	count(vs) > 0
}

# _global are the blocks for every connection, in file order.
_global := [b | some b in _blocks; b.all_connections == true]

_has_global if count(_global) > 0

# _override is the first block for every connection that sets one of keys.
_override(keys) := bs[0] if {
	_has_global
	bs := [b | some b in _global; _sets(b, keys)]
	count(bs) > 0
}

_where(b) := sprintf(" under `Match %s` (%s:%d)", [b.criteria, b.file, b.line])

_place(b) := sprintf("`Match %s`, %s:%d", [b.criteria, b.file, b.line])

# _judged holds, per field, the value that applies to every connection
# and where it was set ("" for the global settings).
_judged[s.field] := {"value": v, "raw": r, "where": _where(b)} if {
	some s in _settings
	b := _override(s.keys)
	r := _raw(b, s.keys)
	v := object.get({"yes": true, "no": false}, lower(trim_space(r)), null)
}

_judged[s.field] := {"value": v, "raw": null, "where": ""} if {
	is_object(input.sshd)
	some s in _settings
	not _override(s.keys)
	v := object.get(input.sshd, s.field, null)
}

# _methods is the AuthenticationMethods that applies to every connection.
_methods := {"value": _raw(b, ["authenticationmethods"]), "where": _where(b)} if {
	b := _override(["authenticationmethods"])
} else := {"value": "any", "where": ""} if {
	startswith(input.sshd.source, "sshd_config")
	not is_string(input.sshd.authentication_methods)
} else := {"value": object.get(input.sshd, "authentication_methods", "any"), "where": ""} if {
	is_object(input.sshd)
}

# _password_method is true when some method list of AuthenticationMethods
# m asks for a password (password or keyboard-interactive, any submethod).
_password_method(m) if {
	lower(trim_space(m)) == "any"
} else if {
	is_string(m)
	some list in split(trim_space(m), " ")
	some method in split(list, ",")
	split(lower(method), ":")[0] in {"password", "keyboard-interactive"}
}

# Violations --------------------------------------------------------------

# _run_sshd_t says how to let the scanner read sshd's effective settings:
# the exact least-privilege sudoers line when a scan without root found that
# it could not run sshd -T (the probe writes it into sshd.source).
_run_sshd_t := sprintf("Let the scanner run sshd -T as root, with this line in /etc/sudoers.d/factorgate: %s", [line]) if {
	parts := split(input.sshd.source, "sudoers: ")
	count(parts) == 2
	line := trim_space(parts[1])
	line != ""
} else := "Let the scanner run sshd -T (root or sudo)"

_sshd_fix := "2FA needs PasswordAuthentication yes, UsePAM yes, ChallengeResponseAuthentication yes and PermitEmptyPasswords no (source: hss_01_0440)"

_problems contains {
	"check": "password_login",
	"message": lib.unread("the sshd settings"),
	"remediation": lib.unread_fix(sprintf("%s, or read /etc/ssh/sshd_config; %s", [_run_sshd_t, _sshd_fix])),
	"severity": "high",
} if not is_object(input.sshd)

_problems contains {
	"check": "password_login",
	"message": lib.unread(sprintf("the sshd setting %s", [s.name])),
	"remediation": lib.unread_fix(sprintf("%s so the effective value is read; %s", [_run_sshd_t, _sshd_fix])),
	"severity": "high",
} if {
	some s in _settings
	j := _judged[s.field]
	j.where == ""
	not is_boolean(j.value)
}

_problems contains {
	"check": "password_login",
	"message": sprintf("sshd has %s %q%s: neither yes nor no", [s.name, j.raw, j.where]),
	"remediation": sprintf("Set %s %s in that Match block and reload sshd; %s", [split(s.name, " ")[0], _yes_no(s.want), _sshd_fix]),
	"severity": "high",
} if {
	some s in _settings
	j := _judged[s.field]
	j.where != ""
	not is_boolean(j.value)
}

_problems contains {
	"check": "password_login",
	"message": sprintf("sshd has %s %s%s: 2FA needs %s", [s.name, _yes_no(j.value), j.where, _yes_no(s.want)]),
	"remediation": _setting_fix(s, j),
	"severity": "high",
} if {
	some s in _settings
	j := _judged[s.field]
	is_boolean(j.value)
	j.value != s.want
}

_setting_fix(s, j) := sprintf("Set %s %s in /etc/ssh/sshd_config and reload sshd (source: hss_01_0440)", [split(s.name, " ")[0], _yes_no(s.want)]) if j.where == ""

_setting_fix(s, j) := sprintf("Set %s %s in the Match block for every connection, or remove it there, and reload sshd (source: hss_01_0440)", [split(s.name, " ")[0], _yes_no(s.want)]) if j.where != ""

_problems contains {
	"check": "password_login",
	"message": lib.unread("the sshd setting AuthenticationMethods"),
	"remediation": lib.unread_fix(sprintf("%s so the effective value is read; 2FA needs a login that asks for a password: AuthenticationMethods any, or a list with password or keyboard-interactive (source: hss_01_0437, hss_01_0440)", [_run_sshd_t])),
	"severity": "high",
} if {
	is_object(input.sshd)
	not is_string(_methods.value)
}

_problems contains {
	"check": "password_login",
	"message": sprintf("sshd has AuthenticationMethods %s%s: no login asks for a password or keyboard-interactive, which is what 2FA protects", [_methods.value, _methods.where]),
	"remediation": "Set AuthenticationMethods any, or add a list with password or keyboard-interactive (e.g. publickey,keyboard-interactive), in /etc/ssh/sshd_config and reload sshd (source: hss_01_0437, hss_01_0440)",
	"severity": "high",
} if {
	is_string(_methods.value)
	not _password_method(_methods.value)
}

# Warnings ----------------------------------------------------------------

warnings contains f if {
	input.os.family == "linux"
	not _root_yes
	some f in _root_warnings
}

warnings contains f if {
	input.os.family == "linux"
	count(_blocks) > 0
	some f in _block_warnings
}

# _root_yes is true when root may log in by password on every connection
# (the common case, kept cheap).
_root_yes if {
	not _has_global
	input.sshd.permit_root_login == "yes"
}

# _root is the PermitRootLogin that applies to every connection.
_root := {"value": _raw(b, ["permitrootlogin"]), "where": _where(b)} if {
	b := _override(["permitrootlogin"])
} else := {"value": input.sshd.permit_root_login, "where": ""} if {
	is_string(input.sshd.permit_root_login)
}

_root_warnings contains {
	"check": "password_login",
	"message": sprintf("sshd has PermitRootLogin %s%s: root password logins will fail once 2FA is on", [_root.value, _root.where]),
	"remediation": "Set PermitRootLogin yes in /etc/ssh/sshd_config where root must log in by password, or log in as another user (source: hss_01_0440)",
	"severity": "low",
} if {
	is_string(_root.value)
	lower(_root.value) != "yes"
}

_root_warnings contains {
	"check": "password_login",
	"message": sprintf("%s: root password logins fail with 2FA unless it is yes", [lib.unread("the sshd setting PermitRootLogin")]),
	"remediation": lib.unread_fix(sprintf("%s; root password logins need PermitRootLogin yes with 2FA (source: hss_01_0440)", [_run_sshd_t])),
	"severity": "low",
} if {
	is_object(input.sshd)
	not _root
}

# _partial are the blocks that apply to some connections only.
_partial contains b if {
	some b in _blocks
	not b.all_connections == true
}

_block_fix := "Remove the setting from that Match block, or leave those logins out of 2FA knowingly, and reload sshd (source: hss_01_0440)"

_block_warnings contains {
	"check": "password_login",
	"message": sprintf("password logins of %s are not protected: %s %s under %s", [b.criteria, _keyword[_written(b, s.keys)], r, _place(b)]),
	"remediation": _block_fix,
	"severity": "medium",
} if {
	some b in _partial
	some s in _settings
	_sets(b, s.keys)
	r := _raw(b, s.keys)
	_bool(r) != s.want
}

_block_warnings contains {
	"check": "password_login",
	"message": sprintf("password logins of %s are not protected: AuthenticationMethods %s under %s", [b.criteria, r, _place(b)]),
	"remediation": _block_fix,
	"severity": "medium",
} if {
	some b in _partial
	_sets(b, ["authenticationmethods"])
	r := _raw(b, ["authenticationmethods"])
	not _password_method(r)
}

_block_warnings contains {
	"check": "password_login",
	"message": sprintf("root password logins of %s will fail once 2FA is on: PermitRootLogin %s under %s", [b.criteria, r, _place(b)]),
	"remediation": "Set PermitRootLogin yes in that Match block where root must log in by password, or log in as another user (source: hss_01_0440)",
	"severity": "low",
} if {
	some b in _partial
	_sets(b, ["permitrootlogin"])
	r := _raw(b, ["permitrootlogin"])
	lower(r) != "yes"
}

# The settings judged are those of the sshd that answered the scan only when
# the probe followed its own process ancestry to the listening sshd
# (sshd.listener "process"). When it could not, it read the first sshd on
# the PATH with its default configuration: another sshd (a second instance,
# a vendor build, another config) may be the one taking logins.
_listener_what := sprintf("%s and its default configuration", [input.sshd.binary]) if {
	is_string(input.sshd.binary)
} else := "the first sshd on the PATH with its default configuration"

_listener_why := sprintf(" (%s)", [input.sshd.listener_error]) if {
	is_string(input.sshd.listener_error)
	input.sshd.listener_error != ""
} else := ""

warnings contains {
	"check": "password_login",
	"message": sprintf("the settings judged are those of %s: the scan could not tell which sshd answered it%s", [_listener_what, _listener_why]),
	"remediation": "Check that the sshd taking logins on this server is the packaged one with /etc/ssh/sshd_config; scanning as root (or with the sudoers line of deploy/) lets the scan find the listening sshd itself (source: hss_01_0568)",
	"severity": "medium",
} if {
	input.sshd.listener == "path"
}

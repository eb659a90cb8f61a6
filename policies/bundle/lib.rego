# METADATA
# title: factorgate helpers
# description: |
#   Tunable parameters and small helpers shared by the checks of the
#   factorgate bundle. Parameters have defaults here; data.factorgate.params
#   (from --data or the command line) overrides them key by key.
package factorgate.lib

import future.keywords.not

# default_params are the bundle's defaults for every tunable parameter.
default_params := {
	# Highest OpenSSH major version HSS 2FA supports: "earlier than 8".
	"openssh_max_major": 7,
	# The 2FA mode enable will use: "code" (verification code, needs no
	# topic) or "sms" (SMS/email through an SMN topic).
	"auth_mode": "code",
	# Where the openssh-server packages install sshd: an OpenSSH package
	# newer than the running server takes over at the next sshd restart
	# unless the listening sshd is known to be another binary.
	"packaged_sshd_paths": ["/usr/sbin/sshd", "/usr/bin/sshd", "/sbin/sshd"],
}

default user_params := {}

user_params := data.factorgate.params

# params are the effective parameters: defaults overridden by data.
params := object.union(default_params, user_params)

# windows is true when the host is known to run Windows.
windows if input.os.family == "windows"

# unconfirmed is the violation of a check whose requirement could not be
# confirmed although none of its specific findings applies: a safety net,
# so that a host is never eligible by omission.
unconfirmed(check) := {
	"check": check,
	"message": sprintf("the %s requirement could not be confirmed from the facts", [check]),
	"remediation": "Scan the host again; if this persists, report the facts file to the factorgate maintainers (source: hss_01_0568)",
	"severity": "high",
}

# normalize turns a finding of any check, bundled or user-written, into a
# full finding object. A bare string is a message; missing fields are
# filled in: "check" from the package name pkg, "severity" from severity.
normalize(pkg, f, severity) := {
	"check": object.get(f, "check", pkg),
	"message": object.get(f, "message", object.get(f, "msg", "")),
	"remediation": object.get(f, "remediation", ""),
	"severity": object.get(f, "severity", severity),
} if is_object(f)

normalize(pkg, f, severity) := {
	"check": pkg,
	"message": f,
	"remediation": "",
	"severity": severity,
} if is_string(f)

normalize(pkg, f, severity) := {
	"check": pkg,
	"message": sprintf("%v", [f]),
	"remediation": "",
	"severity": severity,
} if {
	not is_string(f)
	not is_object(f)
}

# probe_error is what went wrong while the host itself was read: the
# scan's error less its cloud part ("...; cloud: ..."), which the cloud
# checks report on their own; "" when the host was read without error.
default probe_error := ""

probe_error := e if {
	input.reachable == true
	is_string(input.error)
	e := trim_space(split(input.error, "; cloud: ")[0])
	e != ""
	not startswith(e, "cloud: ")
}

# unread is the message of a finding on a fact that could not be read
# (what names it): with the scan's error when one was recorded, so the
# reader learns why rather than a guess.
unread(what) := sprintf("%s could not be read", [what]) if probe_error == ""

unread(what) := sprintf("%s could not be read: %s", [what, probe_error]) if probe_error != ""

# unread_fix is the remediation of such a finding: fix is how to get the
# fact read when the scan recorded no error; when it did, the advice is to
# fix that error (fix's source reference kept), not a guess at the cause.
unread_fix(fix) := fix if probe_error == ""

unread_fix(fix) := sprintf("Fix what the scan reported (see the message), then scan again %s", [src]) if {
	probe_error != ""
	src := regex.find_n(`\(source: [^)]*\)$`, fix, 1)[0]
} else := "Fix what the scan reported (see the message), then scan again" if probe_error != ""

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

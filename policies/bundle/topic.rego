# METADATA
# title: 'SMS/email mode: the chosen SMN topic exists and has a confirmed SMS or email subscription'
# description: |
#   In SMS/email mode (params.auth_mode "sms") 2FA sends codes through an
#   SMN topic, and the console offers only topics with a confirmed
#   subscription: the topic must exist and have a confirmed SMS or email
#   subscription. In verification-code mode (params.auth_mode "code", the
#   default) no topic is needed.
# custom:
#   sources: [hss_01_0568, hss_01_0441]
#   severity: high
#   sarif_level: error
#   platforms: [linux, windows]
package factorgate.checks.topic

import future.keywords.not

import data.factorgate.lib

# A host whose 2FA is already on in SMS/email mode is judged by the topic it
# uses (the scan reads that topic for it), whatever mode the audit is for:
# a deleted or unconfirmed topic makes such a host enabled_ineligible.
_host_sms if {
	input.hss.two_factor.enabled == true
	input.hss.two_factor.auth_type == "sms"
}

_mode := "sms" if {
	_host_sms
} else := lib.params.auth_mode

# _ok is the requirement; the findings below say why it does not hold.
_ok if _mode == "code"

_ok if {
	_mode == "sms"
	input.topic.exists == true
	input.topic.confirmed == true
}

violations contains f if {
	not _ok
	some f in _explained
}

# _explained are the specific findings, or the safety net when none applies.
_explained := _problems if {
	count(_problems) > 0
} else := {lib.unconfirmed("topic")}

_fix := "Create the SMN topic, add an SMS or email subscription and have the recipient confirm it, or use verification-code mode (--auth-mode code) (source: hss_01_0568, hss_01_0441)"

_unknown_fix := "Scan with cloud credentials and the topic URN (--topic-urn) so the SMN API reports the topic and its subscriptions (source: hss_01_0568)"

_urn := input.topic.urn if {
	is_string(input.topic.urn)
	input.topic.urn != ""
} else := "(no URN)"

default _why := ""

_why := sprintf(" (%s)", [input.topic.error]) if is_string(input.topic.error)

_problems contains {
	"check": "topic",
	"message": "SMS/email mode: the SMN topic was not checked",
	"remediation": _unknown_fix,
	"severity": "high",
} if {
	_mode == "sms"
	not is_object(input.topic)
}

_problems contains {
	"check": "topic",
	"message": sprintf("SMS/email mode: whether SMN topic %s exists could not be read%s", [_urn, _why]),
	"remediation": _unknown_fix,
	"severity": "high",
} if {
	_mode == "sms"
	is_object(input.topic)
	not is_boolean(input.topic.exists)
}

_problems contains {
	"check": "topic",
	"message": sprintf("SMS/email mode: SMN topic %s does not exist", [_urn]),
	"remediation": _fix,
	"severity": "high",
} if {
	_mode == "sms"
	input.topic.exists == false
}

_problems contains {
	"check": "topic",
	"message": sprintf("SMS/email mode: whether SMN topic %s has a confirmed subscription could not be read%s", [_urn, _why]),
	"remediation": _unknown_fix,
	"severity": "high",
} if {
	_mode == "sms"
	input.topic.exists == true
	not is_boolean(input.topic.confirmed)
}

_problems contains {
	"check": "topic",
	"message": sprintf("SMS/email mode: SMN topic %s has no confirmed SMS or email subscription", [_urn]),
	"remediation": _fix,
	"severity": "high",
} if {
	_mode == "sms"
	input.topic.exists == true
	input.topic.confirmed == false
}

_problems contains {
	"check": "topic",
	"message": sprintf("parameter auth_mode is %v: want \"sms\" or \"code\"", [_mode]),
	"remediation": "Set --auth-mode sms or code, or factorgate.params.auth_mode in the --data file (source: hss_01_0568)",
	"severity": "high",
} if not _mode in {"sms", "code"}

package factorgate.checks.topic_test

import future.keywords.not

import data.factorgate.checks.topic
import data.factorgate.fixtures_test as fx

_sms := {"auth_mode": "sms"}

_with(t) := object.union(fx.linux, {"topic": t})

_good := {"urn": "urn:smn:eu-de:p1:2fa", "exists": true, "confirmed": true, "protocols": ["sms"]}

test_code_mode_needs_no_topic if {
	count(topic.violations) == 0 with input as fx.linux
}

test_sms_mode_confirmed_topic_passes if {
	count(topic.violations) == 0 with input as _with(_good) with data.factorgate.params as _sms
}

test_sms_mode_missing_topic_fails if {
	vs := topic.violations with input as _with(object.union(_good, {"exists": false})) with data.factorgate.params as _sms
	fx.messages(vs) == {"SMS/email mode: SMN topic urn:smn:eu-de:p1:2fa does not exist"}
}

test_sms_mode_unconfirmed_topic_fails if {
	vs := topic.violations with input as _with(object.union(_good, {"confirmed": false})) with data.factorgate.params as _sms
	fx.has(vs, "has no confirmed SMS or email subscription")
}

test_sms_mode_null_topic_fails if {
	vs := topic.violations with input as fx.linux with data.factorgate.params as _sms
	fx.messages(vs) == {"SMS/email mode: the SMN topic was not checked"}
}

test_sms_mode_null_exists_fails_with_error if {
	t := {"urn": "", "exists": null, "confirmed": null, "error": "SMN.0006 topic not found"}
	vs := topic.violations with input as _with(t) with data.factorgate.params as _sms
	fx.messages(vs) == {"SMS/email mode: whether SMN topic (no URN) exists could not be read (SMN.0006 topic not found)"}
}

test_sms_mode_null_confirmed_fails if {
	vs := topic.violations with input as _with(object.union(_good, {"confirmed": null})) with data.factorgate.params as _sms
	fx.has(vs, "confirmed subscription could not be read")
}

test_unknown_mode_fails if {
	vs := topic.violations with input as fx.linux with data.factorgate.params as {"auth_mode": "email"}
	fx.has(vs, "auth_mode is email")
}

_sms_host(t) := object.union(fx.linux, {
	"hss": object.union(fx.linux.hss, {"two_factor": {"enabled": true, "auth_type": "sms", "topic_urn": "urn:smn:eu-de:p1:2fa"}}),
	"topic": t,
})

test_host_in_sms_mode_is_judged_by_its_topic_in_code_mode if {
	vs := topic.violations with input as _sms_host(object.union(_good, {"exists": false}))
	fx.messages(vs) == {"SMS/email mode: SMN topic urn:smn:eu-de:p1:2fa does not exist"}
}

test_host_in_sms_mode_with_unconfirmed_topic_fails if {
	vs := topic.violations with input as _sms_host(object.union(_good, {"confirmed": false}))
	fx.has(vs, "has no confirmed SMS or email subscription")
}

test_host_in_sms_mode_with_its_topic_confirmed_passes if {
	count(topic.violations) == 0 with input as _sms_host(_good)
}

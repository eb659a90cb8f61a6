# METADATA
# title: factorgate decision
# description: |
#   The verdict on one host. input is one Facts object
#   (factorgate/facts/v1); decision is the whole Decision: the findings of
#   every check under data.factorgate.checks and of every user package
#   wired in through data.factorgate.extensions, waivers applied from
#   data.factorgate.waivers, and the status.
package factorgate.decision

import future.keywords.not

import data.factorgate.checks
import data.factorgate.lib

# Findings of the bundled checks (every package under data.factorgate.checks
# that defines violations or warnings) and of user packages. A host that was
# not scanned has only the reachable finding: every other fact is unknown.
_found := checks.reachable.violations if not input.reachable == true

_found := {f | some name; some f in checks[name].violations} | {lib.normalize(pkg, f, "high") | some [pkg, f] in data.factorgate.extensions.violations} if input.reachable == true

_warned := set() if not input.reachable == true

_warned := {f | some name; some f in checks[name].warnings} | {lib.normalize(pkg, f, "low") | some [pkg, f] in data.factorgate.extensions.warnings} if input.reachable == true

# Waivers, already filtered for expiry: {host, selector, check,
# justification, expires}. host is a glob on the host name ("" for any
# host), selector a label map every label of which must match (null for
# any host). Whether a host was reached is a fact and cannot be waived.
default _waivers := []

_waivers := data.factorgate.waivers if is_array(data.factorgate.waivers)

# The host's identity (name, address, port, labels, HSS host ID, when and
# how long it was scanned) is read only by the rules between here and
# _waiver_for, and by _hss_host_id and decision, which copy it into the
# Decision. factorgate judges hosts alike but for their identity once and
# copies the verdict (policies/cache.go): it checks that no other rule,
# bundled or user-written, reads the identity, and takes covering_waivers
# into account.
_host_matches(pattern) if pattern == ""

_host_matches(pattern) if glob.match(pattern, null, input.host.name)

_selector_matches(sel) if sel == null

_selector_matches(sel) if {
	is_object(sel)
	every k, v in sel {
		input.host.labels[k] == v
	}
}

# _covers(w) is true when waiver w covers this host: its host glob and its
# label selector match.
_covers(w) if {
	_host_matches(object.get(w, "host", ""))
	_selector_matches(object.get(w, "selector", null))
}

# covering_waivers are the indices, in data order, of the waivers that
# cover this host, whatever their check.
covering_waivers := [i | some i, w in _waivers; _covers(w)]

# _waiver_for is the first waiver, in data order, that covers f.
_waiver_for(f) := ws[0] if {
	f.check != "reachable"
	ws := [_waivers[i] | some i in covering_waivers; _waivers[i].check == f.check]
	count(ws) > 0
}

_waived contains object.union(f, {"waiver": {
	"justification": object.get(w, "justification", ""),
	"expires": object.get(w, "expires", ""),
}}) if {
	some f in _found
	w := _waiver_for(f)
}

_unwaived contains f if {
	some f in _found
	not _waiver_for(f)
}

# violations are the unwaived violations; only they count toward status.
violations := sort(_found) if {
	count(_waivers) == 0
} else := sort(_unwaived)

warnings := sort(_warned)

waived := [] if {
	count(_waivers) == 0
} else := sort(_waived)

# _verdict is [status, eligible].
_verdict := ["unreachable", false] if {
	not input.reachable == true
} else := ["enabled", true] if {
	input.hss.two_factor.enabled == true
	count(violations) == 0
} else := ["enabled_ineligible", false] if {
	input.hss.two_factor.enabled == true
} else := ["eligible", true] if {
	count(violations) == 0
} else := ["ineligible", false]

_hss_host_id := input.host.hss_host_id if {
	is_string(input.host.hss_host_id)
	input.host.hss_host_id != ""
} else := input.hss.host_id if {
	is_string(input.hss.host_id)
	input.hss.host_id != ""
} else := null

# decision is the Decision on the host (contract.Decision). Host fields
# are copied as they are; an empty address reads as unknown.
decision := {
	"host": input.host.name,
	"address": object.get(input, ["host", "address"], null),
	"hss_host_id": _hss_host_id,
	"auth": object.get(input, ["host", "auth"], null),
	"os": object.get(input, ["os", "family"], null),
	"transport": object.get(input, ["host", "transport"], null),
	"status": _verdict[0],
	"eligible": _verdict[1],
	"violations": violations,
	"warnings": warnings,
	"waived": waived,
	"labels": object.get(input, ["host", "labels"], {}),
}

package cloud

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/scanner/inventory"
)

// TopicOptions say which SMN topic 2FA codes go through.
type TopicOptions struct {
	// AuthMode is AuthSMS or AuthCode; the topic is checked only for sms.
	AuthMode string
	URN      string
}

// MatchError is returned by [View.Fill] when an inventory host cannot be
// tied to one HSS host: its hss_host_id is not a host HSS knows, its
// address or name matches several HSS hosts, the HSS host it matches is
// matched by another inventory host too, or HSS lists no host like it.
// The host's cloud facts are left null and hss.cloud_error says why.
type MatchError struct {
	Host string
	// By is how the match was tried: hss_host_id, private_ip, public_ip or
	// host_name; empty when no step found any HSS host.
	By    string
	Value string
	// Candidates are the HSS host ids of an ambiguous match; empty
	// otherwise.
	Candidates []string
	// HostID and HostName name the HSS host of a shared match: one that
	// this inventory host and others all match.
	HostID, HostName string
	// Shared are the inventory hosts, this one included and sorted, that
	// all match HostID (By is "hss_host_id" when they all name it so),
	// unless exactly one of them names it by its hss_host_id.
	Shared []string
	// PinnedBy is the inventory host that claims HostID by its
	// hss_host_id, when this host matched it otherwise.
	PinnedBy string
}

func (e *MatchError) Error() string { return e.Host + ": " + e.Reason() }

// Reason is the error without the host's name, in one line, as
// hss.cloud_error carries it.
func (e *MatchError) Reason() string {
	switch {
	case e.PinnedBy != "":
		return fmt.Sprintf("%s %s matches HSS host %s (%s), which inventory host %s claims by hss_host_id: set this host's own hss_host_id",
			e.By, e.Value, e.HostID, e.HostName, e.PinnedBy)
	case len(e.Shared) > 0 && e.By == "hss_host_id":
		return fmt.Sprintf("HSS host %s (%s) is named by the hss_host_id of %d inventory hosts (%s): keep it on the one that is this server",
			e.HostID, e.HostName, len(e.Shared), strings.Join(e.Shared, ", "))
	case len(e.Shared) > 0:
		return fmt.Sprintf("HSS host %s (%s) is matched by %d inventory hosts (%s): set hss_host_id on each to tell them apart",
			e.HostID, e.HostName, len(e.Shared), strings.Join(e.Shared, ", "))
	case len(e.Candidates) > 0:
		return fmt.Sprintf("%s %s matches %d HSS hosts (%s): set hss_host_id in the inventory",
			e.By, e.Value, len(e.Candidates), strings.Join(e.Candidates, ", "))
	case e.By == "hss_host_id":
		return fmt.Sprintf("hss_host_id %s is not a host HSS knows", e.Value)
	case e.Value == "":
		return fmt.Sprintf("HSS lists no host named %s: install the HSS agent, or set hss_host_id in the inventory", e.Host)
	}
	return fmt.Sprintf("HSS lists no host with private or public IP %s or host name %s: install the HSS agent, or set hss_host_id in the inventory",
		e.Value, e.Host)
}

// View is the cloud's view of a fleet, loaded once: the HSS host list, the
// 2FA host list, and the SMN topic. Its Fill method is what the scanner calls for each host (scanner.CloudView).
type View struct {
	hosts   map[string]HSSHost // by host id
	tf      map[string]TwoFactorHost
	matches map[string]match // by inventory host name
	missing []contract.CloudHost
	// topic is the topic the audit chose (sms mode), nil without one;
	// topics are all topics looked up, the hosts' own included, by URN.
	topic  *contract.Topic
	topics map[string]*contract.Topic
}

type match struct {
	id  string
	err error
}

// NewView loads the HSS host list and the 2FA host list (each paged, once),
// matches every inventory host to an HSS host, and checks the SMN topics
// in use: the one chosen for the audit (auth mode sms with a topic URN), and
// the one each matched host already in SMS mode uses. Each distinct topic
// is looked up once, however many hosts use it.
//
// A host matches by its inventory hss_host_id first, else by its address
// against the private IP, then the public IP, else by its name against the
// HSS host name. When several HSS hosts share the address, the one whose
// name is the inventory name is taken; failing that, the step is a
// [*MatchError] naming them all. A step that finds none passes to the next.
// When several inventory hosts match one HSS host, the match holds for
// none of them (a [*MatchError] naming them all), unless exactly one of
// them names it by hss_host_id: that one keeps it.
func NewView(ctx context.Context, c *Client, inventory []inventory.Host, topic TopicOptions) (*View, error) {
	hosts, err := c.ListHosts(ctx)
	if err != nil {
		return nil, fmt.Errorf("cloud facts: %w", err)
	}
	tf, err := c.ListTwoFactor(ctx)
	if err != nil {
		return nil, fmt.Errorf("cloud facts: %w", err)
	}
	v := newView(hosts, tf, inventory)
	var urns []string
	if topic.AuthMode == AuthSMS && topic.URN != "" {
		urns = append(urns, topic.URN)
	}
	for _, m := range v.matches {
		if urn, ok := v.smsTopic(m.id); ok && urn != "" {
			urns = append(urns, urn)
		}
	}
	slices.Sort(urns)
	urns = slices.Compact(urns)
	infos, errs := c.Topics(ctx, urns)
	v.topics = map[string]*contract.Topic{}
	for _, urn := range urns {
		t := &contract.Topic{URN: urn}
		if err := errs[urn]; err != nil {
			msg := err.Error()
			t.Error = &msg
		} else {
			info := infos[urn]
			t.Exists = contract.Ptr(info.Exists)
			t.Confirmed = contract.Ptr(info.Confirmed)
			t.Protocols = info.Protocols
			if t.Protocols == nil {
				t.Protocols = []string{}
			}
		}
		v.topics[urn] = t
	}
	if topic.AuthMode == AuthSMS && topic.URN != "" {
		v.topic = v.topics[topic.URN]
	}
	return v, nil
}

// smsTopic says whether the HSS host id has 2FA on in SMS mode, and with
// which topic ("" when HSS names none).
func (v *View) smsTopic(id string) (string, bool) {
	t, ok := v.tf[id]
	if id == "" || !ok || !t.Enabled || t.AuthType != AuthSMS {
		return "", false
	}
	return t.TopicURN, true
}

// hostTopic is the topic facts.topic carries for the HSS host id: the one
// it uses when 2FA is on in SMS mode, else the audit's choice (nil when
// none).
func (v *View) hostTopic(id string) *contract.Topic {
	urn, sms := v.smsTopic(id)
	switch {
	case !sms:
		return v.topic
	case urn == "":
		msg := "HSS reports 2FA on in SMS mode with no SMN topic"
		return &contract.Topic{Error: &msg}
	case v.topics[urn] == nil:
		msg := "the topic was not looked up: the host was not in the audit's inventory"
		return &contract.Topic{URN: urn, Error: &msg}
	}
	return v.topics[urn]
}

func newView(hosts []HSSHost, tf []TwoFactorHost, inv []inventory.Host) *View {
	v := &View{hosts: map[string]HSSHost{}, tf: map[string]TwoFactorHost{}, matches: map[string]match{}}
	for _, h := range hosts {
		v.hosts[h.HostID] = h
	}
	for _, t := range tf {
		v.tf[t.HostID] = t
	}
	used := map[string]bool{}
	claims := map[string][]inventory.Host{} // HSS host id -> inventory hosts
	for _, ih := range inv {
		id, err := matchHost(ih, hosts, v.hosts)
		v.matches[ih.Name] = match{id: id, err: err}
		if id != "" {
			used[id] = true
			claims[id] = append(claims[id], ih)
		}
	}
	for id, ihs := range claims {
		if len(ihs) < 2 {
			continue
		}
		var names, pinned []string
		for _, ih := range ihs {
			names = append(names, ih.Name)
			if ih.HSSHostID == id {
				pinned = append(pinned, ih.Name)
			}
		}
		slices.Sort(names)
		hh := v.hosts[id]
		for _, ih := range ihs {
			me := &MatchError{Host: ih.Name, HostID: id, HostName: hh.HostName}
			switch {
			case len(pinned) == 1 && ih.Name == pinned[0]:
				continue // named by hss_host_id: the match holds
			case len(pinned) == 1:
				me.By, me.Value, me.PinnedBy = howMatched(ih, hh), ih.Address, pinned[0]
				if me.By == "host_name" {
					me.Value = ih.Name
				}
			case len(pinned) > 1 && ih.HSSHostID == id:
				me.By, me.Value, me.Shared = "hss_host_id", id, pinned
			default:
				me.Shared = names
			}
			v.matches[ih.Name] = match{err: me}
		}
	}
	for _, h := range hosts {
		if used[h.HostID] {
			continue
		}
		v.missing = append(v.missing, contract.CloudHost{HostID: h.HostID, HostName: h.HostName,
			PrivateIP: h.PrivateIP, PublicIP: h.PublicIP, OSType: h.OSType,
			AgentStatus: h.AgentStatus, ProtectStatus: h.ProtectStatus})
	}
	sort.Slice(v.missing, func(i, j int) bool {
		a, b := v.missing[i], v.missing[j]
		if a.HostName != b.HostName {
			return a.HostName < b.HostName
		}
		return a.HostID < b.HostID
	})
	return v
}

// howMatched names the step by which ih matched hh: private_ip, public_ip
// or host_name.
func howMatched(ih inventory.Host, hh HSSHost) string {
	switch {
	case ih.Address != "" && ih.Address == hh.PrivateIP:
		return "private_ip"
	case ih.Address != "" && ih.Address == hh.PublicIP:
		return "public_ip"
	}
	return "host_name"
}

func matchHost(ih inventory.Host, hosts []HSSHost, byID map[string]HSSHost) (string, error) {
	if ih.HSSHostID != "" {
		if _, ok := byID[ih.HSSHostID]; ok {
			return ih.HSSHostID, nil
		}
		return "", &MatchError{Host: ih.Name, By: "hss_host_id", Value: ih.HSSHostID}
	}
	steps := []struct {
		by    string
		value string
		field func(HSSHost) string
	}{
		{"private_ip", ih.Address, func(h HSSHost) string { return h.PrivateIP }},
		{"public_ip", ih.Address, func(h HSSHost) string { return h.PublicIP }},
		{"host_name", ih.Name, func(h HSSHost) string { return h.HostName }},
	}
	for _, s := range steps {
		if s.value == "" {
			continue
		}
		var ids []string
		for _, h := range hosts {
			if s.field(h) == s.value {
				ids = append(ids, h.HostID)
			}
		}
		if len(ids) > 1 && s.by != "host_name" {
			// Several hosts share the address (separate VPCs, or a fleet
			// behind one address): the name may still tell them apart.
			var named []string
			for _, id := range ids {
				if byID[id].HostName == ih.Name {
					named = append(named, id)
				}
			}
			if len(named) == 1 {
				return named[0], nil
			}
		}
		switch len(ids) {
		case 0:
			continue
		case 1:
			return ids[0], nil
		default:
			sort.Strings(ids)
			return "", &MatchError{Host: ih.Name, By: s.by, Value: s.value, Candidates: ids}
		}
	}
	return "", &MatchError{Host: ih.Name, Value: ih.Address}
}

// Fill sets the cloud facts of one host: host.hss_host_id and, for a
// reachable host, hss.host_id, agent_status, protect_status, host_status and
// two_factor (agent_installed and agent_running, from the host's own probe,
// are kept), and the fleet's topic. A reachable host gets hss.cloud_queried
// true, so that null cloud facts read "HSS could not say", never "nobody
// asked". A host that cannot be tied to one HSS host (unknown hss_host_id,
// several candidates, or none at all) keeps null cloud facts, gets
// hss.cloud_error, and Fill returns the [*MatchError], which the caller
// records too; when the HSS host it matched is shared with other inventory
// hosts, host.hss_host_id is cleared too, even where the inventory set it.
// An unreachable host's sections stay null.
func (v *View) Fill(_ context.Context, h inventory.Host, f *contract.Facts) error {
	m, ok := v.matches[h.Name]
	if !ok {
		id, err := matchHost(h, v.hostList(), v.hosts)
		m = match{id: id, err: err}
	}
	if f.Reachable {
		// The topic the host uses when it is in SMS mode, else the chosen one.
		if t := v.hostTopic(m.id); t != nil {
			c := *t
			c.Protocols = slices.Clone(t.Protocols)
			f.Topic = &c
		}
	}
	if m.id != "" {
		f.Host.HSSHostID = contract.Ptr(m.id)
	}
	var shared *MatchError
	if errors.As(m.err, &shared) && (len(shared.Shared) > 0 || shared.PinnedBy != "") {
		// The HSS host is not this host's alone: no id that enable or
		// disable could act on, even one the inventory names.
		f.Host.HSSHostID = nil
	}
	if !f.Reachable {
		return m.err // an unreachable host's sections stay null
	}
	if f.HSS == nil {
		f.HSS = &contract.HSS{}
	}
	f.HSS.CloudQueried = true
	if m.err != nil {
		reason := m.err.Error()
		var me *MatchError
		if errors.As(m.err, &me) {
			reason = me.Reason()
		}
		f.HSS.CloudError = &reason
		f.HSS.HostID, f.HSS.AgentStatus, f.HSS.ProtectStatus, f.HSS.HostStatus, f.HSS.TwoFactor, f.HSS.HostName = nil, nil, nil, nil, nil, nil
		return m.err
	}
	hh := v.hosts[m.id]
	f.HSS.HostID = contract.Ptr(hh.HostID)
	if hh.HostName != h.Name {
		f.HSS.HostName = nonEmpty(hh.HostName)
	}
	f.HSS.AgentStatus = nonEmpty(hh.AgentStatus)
	f.HSS.ProtectStatus = nonEmpty(hh.ProtectStatus)
	f.HSS.HostStatus = nonEmpty(hh.HostStatus)
	f.HSS.TwoFactor = nil
	if t, ok := v.tf[m.id]; ok {
		f.HSS.TwoFactor = &contract.TwoFactor{Enabled: contract.Ptr(t.Enabled)}
		if t.Enabled {
			f.HSS.TwoFactor.AuthType = nonEmpty(t.AuthType)
			f.HSS.TwoFactor.TopicURN = nonEmpty(t.TopicURN)
		}
	} else if hh.TwoFactorAuth != nil {
		f.HSS.TwoFactor = &contract.TwoFactor{Enabled: contract.Ptr(*hh.TwoFactorAuth)}
	}
	return nil
}

func (v *View) hostList() []HSSHost {
	out := make([]HSSHost, 0, len(v.hosts))
	for _, h := range v.hosts {
		out = append(out, h)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].HostID < out[j].HostID })
	return out
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// NotScanned lists the hosts HSS knows that no inventory host matched,
// sorted by name.
func (v *View) NotScanned() []contract.CloudHost {
	return append([]contract.CloudHost(nil), v.missing...)
}

// Topic is the fleet's SMN topic check, or nil when none was made.
func (v *View) Topic() *contract.Topic { return v.topic }

// HostID returns the HSS host id an inventory host matched, or "".
func (v *View) HostID(name string) string { return v.matches[name].id }

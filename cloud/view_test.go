package cloud_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/factorgate/factorgate/cloud"
	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/internal/hsssim"
	"github.com/factorgate/factorgate/scanner/inventory"
)

func TestView(t *testing.T) {
	s := startSim(t, hsssim.Config{})
	web := s.AddHost(hsssim.Host{ID: "id-web", Name: "web-01", PrivateIP: "10.0.0.5"})
	pub := s.AddHost(hsssim.Host{ID: "id-pub", Name: "edge", PrivateIP: "192.168.0.9", PublicIP: "203.0.113.7"})
	s.AddHost(hsssim.Host{ID: "id-named", Name: "db-01", PrivateIP: "10.0.1.1", AgentStatus: hsssim.AgentOffline})
	s.AddHost(hsssim.Host{ID: "id-dup1", Name: "dup", PrivateIP: "10.9.9.9"})
	s.AddHost(hsssim.Host{ID: "id-dup2", Name: "dup2", PrivateIP: "10.9.9.9"})
	s.AddHost(hsssim.Host{ID: "id-extra", Name: "stray", PrivateIP: "10.7.7.7", ProtectStatus: hsssim.ProtectClosed})
	s.AddHost(hsssim.Host{ID: "id-down", Name: "down", PrivateIP: "10.0.0.6"})
	s.SetTwoFactor(pub, hsssim.TwoFactor{Enabled: true, AuthType: "sms", TopicURN: "urn:smn:x:p:ops"})
	urn := "urn:smn:eu-de:" + testProject + ":ops"
	s.AddTopic(hsssim.Topic{URN: urn, Name: "ops", Subscriptions: []hsssim.Subscription{{Protocol: "sms", Status: 1}}})

	inv := []inventory.Host{
		{Name: "web-01", Address: "10.0.0.5"},
		{Name: "edge", Address: "203.0.113.7"},
		{Name: "db-01", Address: "db.internal"},
		{Name: "dup-a", Address: "10.9.9.9"},
		{Name: "pinned", Address: "10.9.9.9", HSSHostID: "id-dup2"},
		{Name: "gone", Address: "10.0.0.99", HSSHostID: "id-nope"},
		{Name: "unknown", Address: "10.0.0.77"},
		{Name: "down", Address: "10.0.0.6"},
		{Name: "dup2", Address: "10.9.9.9"},
	}
	// Hosts the view was not loaded with are matched when asked about; their
	// probe left hss null.
	noProbe := inventory.Host{Name: "noprobe", HSSHostID: "id-gone"}
	matchedNoProbe := inventory.Host{Name: "stray2", Address: "10.7.7.7"}
	c := newClient(t, s, nil)
	v, err := cloud.NewView(context.Background(), c, inv, cloud.TopicOptions{AuthMode: cloud.AuthSMS, URN: urn})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		host      inventory.Host
		reachable bool
		wantID    string
		wantHSS   string // JSON of f.HSS
		wantErr   string
	}{
		{inv[0], true, web, `{"agent_installed":true,"agent_running":true,"host_id":"id-web","agent_status":"online","protect_status":"opened","host_status":"ACTIVE","two_factor":{"enabled":false,"auth_type":null,"topic_urn":null},"cloud_queried":true}`, ""},
		{inv[1], true, pub, `{"agent_installed":true,"agent_running":true,"host_id":"id-pub","agent_status":"online","protect_status":"opened","host_status":"ACTIVE","two_factor":{"enabled":true,"auth_type":"sms","topic_urn":"urn:smn:x:p:ops"},"cloud_queried":true}`, ""},
		{inv[2], true, "id-named", `{"agent_installed":true,"agent_running":true,"host_id":"id-named","agent_status":"offline","protect_status":"opened","host_status":"ACTIVE","two_factor":{"enabled":false,"auth_type":null,"topic_urn":null},"cloud_queried":true}`, ""},
		{inv[3], true, "", `{"agent_installed":true,"agent_running":true,"host_id":null,"agent_status":null,"protect_status":null,"host_status":null,"two_factor":null,"cloud_queried":true,"cloud_error":"private_ip 10.9.9.9 matches 2 HSS hosts (id-dup1, id-dup2): set hss_host_id in the inventory"}`, "dup-a: private_ip 10.9.9.9 matches 2 HSS hosts (id-dup1, id-dup2)"},
		{inv[4], true, "id-dup2", "", ""},
		{inv[5], true, "", `{"agent_installed":true,"agent_running":true,"host_id":null,"agent_status":null,"protect_status":null,"host_status":null,"two_factor":null,"cloud_queried":true,"cloud_error":"hss_host_id id-nope is not a host HSS knows"}`, "gone: hss_host_id id-nope is not a host HSS knows"},
		{inv[6], true, "", `{"agent_installed":true,"agent_running":true,"host_id":null,"agent_status":null,"protect_status":null,"host_status":null,"two_factor":null,"cloud_queried":true,"cloud_error":"HSS lists no host with private or public IP 10.0.0.77 or host name unknown: install the HSS agent, or set hss_host_id in the inventory"}`, "unknown: HSS lists no host"},
		{inv[7], false, "id-down", "null", ""},
		// dup2 matches id-dup2 by address and name, but pinned claims it.
		{inv[8], true, "", "", "dup2: private_ip 10.9.9.9 matches HSS host id-dup2 (dup2), which inventory host pinned claims by hss_host_id: set this host's own hss_host_id"},
		{noProbe, true, "", `{"agent_installed":null,"agent_running":null,"host_id":null,"agent_status":null,"protect_status":null,"host_status":null,"two_factor":null,"cloud_queried":true,"cloud_error":"hss_host_id id-gone is not a host HSS knows"}`, "noprobe: hss_host_id id-gone"},
		{matchedNoProbe, true, "id-extra", `{"agent_installed":null,"agent_running":null,"host_id":"id-extra","agent_status":"online","protect_status":"closed","host_status":"ACTIVE","two_factor":{"enabled":false,"auth_type":null,"topic_urn":null},"cloud_queried":true,"host_name":"stray"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.host.Name, func(t *testing.T) {
			f := &contract.Facts{Host: contract.Host{Name: tt.host.Name}, Reachable: tt.reachable}
			if tt.reachable && tt.host.Name != noProbe.Name && tt.host.Name != matchedNoProbe.Name {
				f.HSS = &contract.HSS{AgentInstalled: contract.Ptr(true), AgentRunning: contract.Ptr(true)}
			}
			err := v.Fill(context.Background(), tt.host, f)
			if tt.wantErr != "" {
				var me *cloud.MatchError
				if !errors.As(err, &me) || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("Fill err = %v, want %q", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			gotID := ""
			if f.Host.HSSHostID != nil {
				gotID = *f.Host.HSSHostID
			}
			if gotID != tt.wantID {
				t.Errorf("host.hss_host_id = %q, want %q", gotID, tt.wantID)
			}
			if tt.wantHSS != "" {
				b, _ := json.Marshal(f.HSS)
				if string(b) != tt.wantHSS {
					t.Errorf("hss =\n%s\nwant\n%s", b, tt.wantHSS)
				}
			}
			switch {
			case tt.host.Name == "edge":
				// In SMS mode already, with a topic SMN does not know.
				if f.Topic == nil || f.Topic.URN != "urn:smn:x:p:ops" || f.Topic.Exists == nil || *f.Topic.Exists {
					t.Errorf("topic = %+v, want its own topic, missing", f.Topic)
				}
			case tt.reachable && (f.Topic == nil || f.Topic.URN != urn || f.Topic.Exists == nil || !*f.Topic.Exists || !*f.Topic.Confirmed):
				t.Errorf("topic = %+v, want exists and confirmed", f.Topic)
			}
		})
	}
	var names []string
	for _, h := range v.NotScanned() {
		names = append(names, h.HostName)
	}
	if got := strings.Join(names, ","); got != "dup,stray" {
		t.Errorf("NotScanned = %s, want dup,stray", got)
	}
	// One load of each list, however many hosts were filled.
	if a, b := s.Requests(hsssim.OpListHostStatus), s.Requests(hsssim.OpListTwoFactorLoginHost); a != 1 || b != 1 {
		t.Errorf("list calls = %d, %d, want 1, 1", a, b)
	}
}

func TestViewMissingTopic(t *testing.T) {
	s := startSim(t, hsssim.Config{})
	s.AddHost(hsssim.Host{Name: "web"})
	v, err := cloud.NewView(context.Background(), newClient(t, s, nil), nil, cloud.TopicOptions{AuthMode: cloud.AuthSMS, URN: "urn:smn:eu-de:p:none"})
	if err != nil {
		t.Fatal(err)
	}
	if tp := v.Topic(); tp == nil || tp.Exists == nil || *tp.Exists || *tp.Confirmed {
		t.Errorf("topic = %+v, want exists false", tp)
	}
}

// fill runs Fill for one reachable host whose probe found the agent.
func fill(t *testing.T, v *cloud.View, h inventory.Host) (*contract.Facts, error) {
	t.Helper()
	f := &contract.Facts{Host: contract.Host{Name: h.Name}, Reachable: true,
		HSS: &contract.HSS{AgentInstalled: contract.Ptr(true), AgentRunning: contract.Ptr(true)}}
	if h.HSSHostID != "" {
		f.Host.HSSHostID = contract.Ptr(h.HSSHostID) // as the scanner sets it
	}
	err := v.Fill(context.Background(), h, f)
	return f, err
}

func topicJSON(tp *contract.Topic) string {
	b, _ := json.Marshal(tp)
	return string(b)
}

// A host already in SMS mode is checked against the topic it uses, not the
// one the audit would choose; each topic is looked up once.
func TestViewHostTopics(t *testing.T) {
	s := startSim(t, hsssim.Config{})
	urn := func(name string) string { return "urn:smn:eu-de:" + testProject + ":" + name }
	s.AddTopic(hsssim.Topic{URN: urn("fleet"), Name: "fleet", Subscriptions: []hsssim.Subscription{{Protocol: "sms", Status: 1}}})
	s.AddTopic(hsssim.Topic{URN: urn("ops"), Name: "ops", Subscriptions: []hsssim.Subscription{{Protocol: "email", Status: 1}}})
	s.AddTopic(hsssim.Topic{URN: urn("new"), Name: "new", Subscriptions: []hsssim.Subscription{{Protocol: "sms", Status: 0}}})
	add := func(name, ip string, tf *hsssim.TwoFactor) inventory.Host {
		id := s.AddHost(hsssim.Host{ID: "id-" + name, Name: name, PrivateIP: ip})
		if tf != nil {
			s.SetTwoFactor(id, *tf)
		}
		return inventory.Host{Name: name, Address: ip}
	}
	inv := []inventory.Host{
		add("ops-1", "10.0.0.1", &hsssim.TwoFactor{Enabled: true, AuthType: "sms", TopicURN: urn("ops")}),
		add("ops-2", "10.0.0.2", &hsssim.TwoFactor{Enabled: true, AuthType: "sms", TopicURN: urn("ops")}),
		add("unconfirmed", "10.0.0.3", &hsssim.TwoFactor{Enabled: true, AuthType: "sms", TopicURN: urn("new")}),
		add("deleted", "10.0.0.4", &hsssim.TwoFactor{Enabled: true, AuthType: "sms", TopicURN: urn("gone")}),
		add("off", "10.0.0.5", &hsssim.TwoFactor{Enabled: false}),
		add("code", "10.0.0.6", &hsssim.TwoFactor{Enabled: true, AuthType: "code"}),
	}
	want := map[string]string{
		"ops-1":       `{"urn":"` + urn("ops") + `","exists":true,"confirmed":true,"protocols":["email"]}`,
		"ops-2":       `{"urn":"` + urn("ops") + `","exists":true,"confirmed":true,"protocols":["email"]}`,
		"unconfirmed": `{"urn":"` + urn("new") + `","exists":true,"confirmed":false,"protocols":[]}`,
		"deleted":     `{"urn":"` + urn("gone") + `","exists":false,"confirmed":false,"protocols":[]}`,
		"off":         `{"urn":"` + urn("fleet") + `","exists":true,"confirmed":true,"protocols":["sms"]}`,
		"code":        `{"urn":"` + urn("fleet") + `","exists":true,"confirmed":true,"protocols":["sms"]}`,
	}
	for _, mode := range []cloud.TopicOptions{{AuthMode: cloud.AuthSMS, URN: urn("fleet")}, {AuthMode: cloud.AuthCode}} {
		t.Run(mode.AuthMode, func(t *testing.T) {
			topics0, subs0 := s.Requests(hsssim.OpListTopics), s.Requests(hsssim.OpListSubscriptionsByTopic)
			v, err := cloud.NewView(context.Background(), newClient(t, s, nil), inv, mode)
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range inv {
				f, err := fill(t, v, h)
				if err != nil {
					t.Fatal(err)
				}
				w := want[h.Name]
				if mode.AuthMode == cloud.AuthCode && strings.Contains(w, urn("fleet")) {
					w = "null" // no topic chosen, none in use
				}
				if got := topicJSON(f.Topic); got != w {
					t.Errorf("%s: topic = %s\nwant %s", h.Name, got, w)
				}
			}
			// One listing of the topics, one of the subscriptions of each
			// distinct topic that exists (ops, new, and fleet in sms mode).
			subs := 2
			if mode.AuthMode == cloud.AuthSMS {
				subs = 3
			}
			if n, m := s.Requests(hsssim.OpListTopics)-topics0, s.Requests(hsssim.OpListSubscriptionsByTopic)-subs0; n != 1 || m != subs {
				t.Errorf("ListTopics %d times, ListSubscriptionsByTopic %d times; want 1 and %d", n, m, subs)
			}
		})
	}
}

// Two inventory hosts that match one HSS host: neither gets its cloud
// facts, both say why; a host pinned by hss_host_id keeps its match.
func TestViewSharedHSSHost(t *testing.T) {
	s := startSim(t, hsssim.Config{})
	s.AddHost(hsssim.Host{ID: "id-app", Name: "app", PrivateIP: "10.0.0.5"})
	s.AddHost(hsssim.Host{ID: "id-db", Name: "db", PrivateIP: "10.1.1.1"})
	s.AddHost(hsssim.Host{ID: "id-pin", Name: "pin", PrivateIP: "10.2.2.2"})
	s.AddHost(hsssim.Host{ID: "id-web", Name: "ecs-web-01", PrivateIP: "10.3.3.3"})
	s.AddHost(hsssim.Host{ID: "id-twin", Name: "twin", PrivateIP: "10.4.4.4"})
	s.SetTwoFactor(s.AddHost(hsssim.Host{ID: "id-odd", Name: "odd", PrivateIP: "10.5.5.5"}), hsssim.TwoFactor{Enabled: true, AuthType: ""})
	inv := []inventory.Host{
		// The same private IP behind two bastions.
		{Name: "app-east", Address: "10.0.0.5"},
		{Name: "app-west", Address: "10.0.0.5"},
		// A reused name: one matches by name, the other by IP.
		{Name: "db", Address: "10.9.9.9"},
		{Name: "db-new", Address: "10.1.1.1"},
		// Pinned by hss_host_id, and another that matches it by IP.
		{Name: "pinned", Address: "pin.example", HSSHostID: "id-pin"},
		{Name: "pin-copy", Address: "10.2.2.2"},
		// A match by IP under another name.
		{Name: "web-01", Address: "10.3.3.3"},
		// Two hosts naming one HSS host by hss_host_id, a third by IP.
		{Name: "twin-a", Address: "twin-a.example", HSSHostID: "id-twin"},
		{Name: "twin-b", Address: "twin-b.example", HSSHostID: "id-twin"},
		{Name: "twin-c", Address: "10.4.4.4"},
		// 2FA on with an auth type HSS did not name: not SMS mode.
		{Name: "odd", Address: "10.5.5.5"},
	}
	v, err := cloud.NewView(context.Background(), newClient(t, s, nil), inv, cloud.TopicOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		host, id, hostName, cloudErr string
	}{
		{"app-east", "", "", "HSS host id-app (app) is matched by 2 inventory hosts (app-east, app-west): set hss_host_id on each to tell them apart"},
		{"app-west", "", "", "HSS host id-app (app) is matched by 2 inventory hosts (app-east, app-west): set hss_host_id on each to tell them apart"},
		{"db", "", "", "HSS host id-db (db) is matched by 2 inventory hosts (db, db-new): set hss_host_id on each to tell them apart"},
		{"db-new", "", "", "HSS host id-db (db) is matched by 2 inventory hosts (db, db-new): set hss_host_id on each to tell them apart"},
		{"pinned", "id-pin", "pin", ""},
		{"pin-copy", "", "", "private_ip 10.2.2.2 matches HSS host id-pin (pin), which inventory host pinned claims by hss_host_id: set this host's own hss_host_id"},
		{"web-01", "id-web", "ecs-web-01", ""},
		{"twin-a", "", "", "HSS host id-twin (twin) is named by the hss_host_id of 2 inventory hosts (twin-a, twin-b): keep it on the one that is this server"},
		{"twin-b", "", "", "HSS host id-twin (twin) is named by the hss_host_id of 2 inventory hosts (twin-a, twin-b): keep it on the one that is this server"},
		{"twin-c", "", "", "HSS host id-twin (twin) is matched by 3 inventory hosts (twin-a, twin-b, twin-c): set hss_host_id on each to tell them apart"},
		{"odd", "id-odd", "", ""}, // the same name: no host_name
	}
	for i, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			f, err := fill(t, v, inv[i])
			gotID, gotName, gotErr := "", "", ""
			if f.Host.HSSHostID != nil {
				gotID = *f.Host.HSSHostID
			}
			if f.HSS.HostName != nil {
				gotName = *f.HSS.HostName
			}
			if f.HSS.CloudError != nil {
				gotErr = *f.HSS.CloudError
			}
			if gotID != tt.id || gotName != tt.hostName || gotErr != tt.cloudErr {
				t.Errorf("hss_host_id %q host_name %q cloud_error %q\nwant %q %q %q", gotID, gotName, gotErr, tt.id, tt.hostName, tt.cloudErr)
			}
			var me *cloud.MatchError
			if (tt.cloudErr != "") != errors.As(err, &me) {
				t.Errorf("Fill err = %v", err)
			}
			if tt.cloudErr != "" && (f.HSS.HostID != nil || f.HSS.ProtectStatus != nil || f.HSS.TwoFactor != nil) {
				t.Errorf("an ambiguous host got cloud facts: %+v", f.HSS)
			}
			if tt.host == "odd" && f.Topic != nil {
				t.Errorf("odd: topic %+v, want none (not SMS mode, none chosen)", f.Topic)
			}
			if v.HostID(tt.host) != tt.id {
				t.Errorf("HostID(%s) = %q, want %q", tt.host, v.HostID(tt.host), tt.id)
			}
		})
	}
	if ns := v.NotScanned(); len(ns) != 0 {
		t.Errorf("NotScanned = %+v, want none: every HSS host is matched, if ambiguously", ns)
	}
}

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
		{Name: "down", Address: "10.0.0.5"},
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
		{inv[7], false, web, "null", ""},
		{inv[8], true, "id-dup2", "", ""},
		{noProbe, true, "", `{"agent_installed":null,"agent_running":null,"host_id":null,"agent_status":null,"protect_status":null,"host_status":null,"two_factor":null,"cloud_queried":true,"cloud_error":"hss_host_id id-gone is not a host HSS knows"}`, "noprobe: hss_host_id id-gone"},
		{matchedNoProbe, true, "id-extra", `{"agent_installed":null,"agent_running":null,"host_id":"id-extra","agent_status":"online","protect_status":"closed","host_status":"ACTIVE","two_factor":{"enabled":false,"auth_type":null,"topic_urn":null},"cloud_queried":true}`, ""},
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
			if tt.reachable && (f.Topic == nil || f.Topic.Exists == nil || !*f.Topic.Exists || !*f.Topic.Confirmed) {
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

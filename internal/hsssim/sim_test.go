package hsssim

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// signedDo sends a request signed by the emulator's own signer, dated at.
func signedDo(t *testing.T, s *Sim, method, path, query string, body []byte, sk string, at time.Time) (*http.Response, map[string]string) {
	t.Helper()
	u, _ := url.Parse(s.URL())
	req, err := http.NewRequest(method, s.URL()+path+"?"+query, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	date := at.UTC().Format(dateFormat)
	req.Header.Set("X-Sdk-Date", date)
	req.Header.Set("Content-Type", "application/json")
	signed := []string{"host", "x-sdk-date"}
	sig, err := signature(signedRequest{Method: method, Path: path, RawQuery: query, Host: u.Host, Header: req.Header, Body: body}, signed, date, sk)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "SDK-HMAC-SHA256 Access="+s.cfg.AK+", SignedHeaders=host;x-sdk-date, Signature="+sig)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := map[string]string{}
	var generic map[string]any
	_ = json.Unmarshal(raw, &generic)
	for k, v := range generic {
		b, _ := json.Marshal(v)
		out[k] = strings.Trim(string(b), `"`)
	}
	return resp, out
}

func TestAnswers(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := Start(ctx, Config{AK: "AK1", SK: "SK1", ProjectID: "p1", ApplyDelay: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		s.AddHost(Host{Name: "h" + string(rune('0'+i))})
	}
	off := s.AddHost(Host{Name: "off", AgentStatus: AgentOffline})
	none := s.AddHost(Host{Name: "none", AgentStatus: AgentNotInstalled})
	now := time.Now()
	set := func(ids ...string) []byte {
		b, _ := json.Marshal(map[string]any{"enabled": true, "auth_type": "code", "host_id_list": ids})
		return b
	}
	tests := []struct {
		name     string
		method   string
		path     string
		query    string
		body     []byte
		sk       string
		at       time.Time
		status   int
		wantKey  string
		wantWant string
	}{
		{"page 2 of hosts", "GET", "/v5/p1/host-management/hosts", "limit=3&offset=3", nil, "SK1", now, 200, "total_num", "7"},
		{"limit too big", "GET", "/v5/p1/host-management/hosts", "limit=201", nil, "SK1", now, 400, "error_code", "HSS.0001"},
		{"2fa list needs limit", "GET", "/v5/p1/setting/two-factor-login/hosts", "", nil, "SK1", now, 400, "error_code", "HSS.0001"},
		{"wrong key", "GET", "/v5/p1/host-management/hosts", "", nil, "SK2", now, 401, "error_code", "APIGW.0301"},
		{"skew", "GET", "/v5/p1/host-management/hosts", "", nil, "SK1", now.Add(-16 * time.Minute), 401, "error_msg", "Incorrect IAM authentication information: the request time differs from the server time by more than 15 minutes"},
		{"wrong project", "GET", "/v5/p2/host-management/hosts", "", nil, "SK1", now, 403, "error_code", "APIGW.0306"},
		{"unknown api", "GET", "/v5/p1/nothing/here", "", nil, "SK1", now, 404, "error_code", "APIGW.0101"},
		{"offline agent", "PUT", "/v5/p1/setting/two-factor-login/config", "", set(off), "SK1", now, 400, "error_code", "HSS.1007"},
		{"no agent", "PUT", "/v5/p1/setting/two-factor-login/config", "", set(none), "SK1", now, 400, "error_code", "HSS.1001"},
		{"missing topic", "GET", "/v2/p1/notifications/topics/urn:smn:x:p1:none/subscriptions", "", nil, "SK1", now, 404, "error_code", "SMN.0006"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := signedDo(t, s, tt.method, tt.path, tt.query, tt.body, tt.sk, tt.at)
			if resp.StatusCode != tt.status || body[tt.wantKey] != tt.wantWant {
				t.Errorf("answer %d %v, want %d with %s=%s", resp.StatusCode, body, tt.status, tt.wantKey, tt.wantWant)
			}
			if len(resp.Header.Get("X-Request-Id")) != 32 {
				t.Errorf("no X-Request-Id on the answer")
			}
		})
	}
	if s.SetCalls() != 2 || s.Calls(off) != 0 {
		t.Errorf("set calls = %d, calls(off) = %d, want 2 and 0", s.SetCalls(), s.Calls(off))
	}

	// An unsigned request is refused too, with a request id.
	resp, err := http.Get(s.URL() + "/v5/p1/host-management/hosts")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || resp.Header.Get("X-Request-Id") == "" {
		t.Errorf("unsigned: %d", resp.StatusCode)
	}
}

func TestApplyDelay(t *testing.T) {
	clock := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := Start(ctx, Config{AK: "AK1", SK: "SK1", ProjectID: "p1", ApplyDelay: 5 * time.Minute, Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	id := s.AddHost(Host{Name: "a"})
	b, _ := json.Marshal(map[string]any{"enabled": true, "auth_type": "code", "host_id_list": []string{id}})
	resp, _ := signedDo(t, s, "PUT", "/v5/p1/setting/two-factor-login/config", "", b, "SK1", clock)
	if resp.StatusCode != 200 {
		t.Fatalf("set: %d", resp.StatusCode)
	}
	if tf, _ := s.TwoFactor(id); tf.Enabled {
		t.Errorf("2FA shows before ApplyDelay")
	}
	clock = clock.Add(5 * time.Minute)
	if tf, _ := s.TwoFactor(id); !tf.Enabled || tf.AuthType != "code" || s.Calls(id) != 1 {
		t.Errorf("2FA after ApplyDelay = %+v, calls %d", tf, s.Calls(id))
	}
}

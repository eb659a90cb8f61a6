package cloud_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/factorgate/factorgate/cloud"
	"github.com/factorgate/factorgate/internal/hsssim"
)

const (
	testAK      = "AKTESTFACTORGATE0001"
	testSK      = "SKtestfactorgateSECRET0123456789abcdef"
	testProject = "0123456789abcdef0123456789abcdef"
)

// startSim starts an emulator that stops with the test.
func startSim(t *testing.T, cfg hsssim.Config) *hsssim.Sim {
	t.Helper()
	if cfg.AK == "" {
		cfg.AK, cfg.SK, cfg.ProjectID = testAK, testSK, testProject
	}
	ctx, cancel := context.WithCancel(context.Background())
	s, err := hsssim.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); s.Close() })
	return s
}

// newClient builds a client for the emulator with short retries.
func newClient(t *testing.T, s *hsssim.Sim, mod func(*cloud.Credentials, *cloud.Options)) *cloud.Client {
	t.Helper()
	creds := cloud.Credentials{AK: testAK, SK: testSK, ProjectID: testProject}
	opts := cloud.Options{HSSEndpoint: s.URL(), SMNEndpoint: s.URL(), Retries: 3,
		RetryWait: time.Millisecond, MaxRetryWait: 5 * time.Millisecond, Timeout: 5 * time.Second}
	if mod != nil {
		mod(&creds, &opts)
	}
	c, err := cloud.New(creds, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestListHostsPages(t *testing.T) {
	s := startSim(t, hsssim.Config{})
	for i := range 7 {
		s.AddHost(hsssim.Host{Name: fmt.Sprintf("web-%02d", i), PrivateIP: fmt.Sprintf("10.0.0.%d", i)})
	}
	s.AddHost(hsssim.Host{Name: "noagent", AgentStatus: hsssim.AgentNotInstalled})
	c := newClient(t, s, func(_ *cloud.Credentials, o *cloud.Options) { o.PageSize = 3 })
	hosts, err := c.ListHosts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(hosts) != 8 {
		t.Fatalf("ListHosts returned %d hosts, want 8", len(hosts))
	}
	if got := s.Requests(hsssim.OpListHostStatus); got != 3 {
		t.Errorf("ListHostStatus pages = %d, want 3", got)
	}
	if hosts[3].HostName != "web-03" || hosts[3].PrivateIP != "10.0.0.3" || hosts[3].AgentStatus != "online" {
		t.Errorf("host 3 = %+v", hosts[3])
	}
	tf, err := c.ListTwoFactor(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(tf) != 7 {
		t.Errorf("ListTwoFactor returned %d hosts, want 7 (the agentless host is not listed)", len(tf))
	}
}

func TestSetTwoFactorAndTLS(t *testing.T) {
	s := startSim(t, hsssim.Config{TLS: true})
	id := s.AddHost(hsssim.Host{Name: "web-01"})
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, s.CACertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, s, func(_ *cloud.Credentials, o *cloud.Options) { o.CAFile = ca })
	rid, err := c.SetTwoFactor(context.Background(), cloud.TwoFactorConfig{Enabled: true, AuthType: cloud.AuthCode, HostIDs: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rid) != 32 {
		t.Errorf("request id = %q, want the emulator's 32 hex digits", rid)
	}
	tf, _ := s.TwoFactor(id)
	if !tf.Enabled || tf.AuthType != "code" {
		t.Errorf("2FA after set = %+v", tf)
	}
	// Without the CA the same endpoint is refused, and not tried again.
	c2 := newClient(t, s, func(_ *cloud.Credentials, o *cloud.Options) { o.RetryWait = time.Hour })
	if _, err := c2.ListHosts(context.Background()); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("ListHosts without the CA: err = %v, want a certificate error", err)
	}
}

func TestAuthenticationFailures(t *testing.T) {
	tests := []struct {
		name  string
		cfg   hsssim.Config
		creds func(*cloud.Credentials)
		want  string
	}{
		{name: "wrong secret key", creds: func(c *cloud.Credentials) { c.SK = "SKwrongwrongwrongwrongwrong" }, want: "verify aksk signature fail"},
		{name: "unknown access key", creds: func(c *cloud.Credentials) { c.AK = "AKUNKNOWNUNKNOWN0000" }, want: "access key does not exist"},
		{name: "clock skew", cfg: hsssim.Config{Now: func() time.Time { return time.Now().Add(16 * time.Minute) }}, want: "more than 15 minutes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startSim(t, tt.cfg)
			var logs bytes.Buffer
			c := newClient(t, s, func(c *cloud.Credentials, _ *cloud.Options) {
				if tt.creds != nil {
					tt.creds(c)
				}
				slog.New(slog.NewTextHandler(&logs, nil)).Info("client", "creds", *c)
			})
			_, err := c.ListHosts(context.Background())
			var ae *cloud.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v, want an *APIError", err)
			}
			msg := err.Error()
			if ae.Status != 401 || !strings.HasPrefix(ae.Code, "APIGW.") || ae.RequestID == "" ||
				!strings.Contains(msg, tt.want) || !strings.Contains(msg, ae.RequestID) || strings.Contains(msg, "\n") {
				t.Errorf("error = %q, want one line with 401, an APIGW code, %q and the request id", msg, tt.want)
			}
			if !cloud.Fatal(err) {
				t.Errorf("Fatal(%v) = false", err)
			}
			if got := s.Requests(hsssim.OpListHostStatus); got != 0 {
				t.Errorf("a refused request reached the API %d times", got)
			}
			for _, secret := range []string{testSK, "SKwrongwrongwrongwrongwrong", testAK, "AKUNKNOWNUNKNOWN0000"} {
				if strings.Contains(msg, secret) || strings.Contains(logs.String(), secret) {
					t.Errorf("a key shows in the error or log: %q / %q", msg, logs.String())
				}
			}
		})
	}
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name    string
		fault   hsssim.Fault
		wantErr string
		wantReq int
	}{
		{name: "429 twice then ok", fault: hsssim.Fault{Op: hsssim.OpListHostStatus, Status: 429, Times: 2}, wantReq: 3},
		{name: "500 once then ok", fault: hsssim.Fault{Op: hsssim.OpListHostStatus, Status: 500, Times: 1}, wantReq: 2},
		{name: "429 beyond retries", fault: hsssim.Fault{Op: hsssim.OpListHostStatus, Status: 429, Times: 10}, wantErr: "HTTP 429 APIGW.0308", wantReq: 4},
		{name: "400 not retried", fault: hsssim.Fault{Op: hsssim.OpListHostStatus, Status: 400, Code: "HSS.0001", Times: 10}, wantErr: "HTTP 400 HSS.0001", wantReq: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startSim(t, hsssim.Config{})
			s.AddHost(hsssim.Host{Name: "a"})
			s.InjectFault(tt.fault)
			c := newClient(t, s, nil)
			_, err := c.ListHosts(context.Background())
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
			if got := s.Requests(hsssim.OpListHostStatus); got != tt.wantReq {
				t.Errorf("requests = %d, want %d", got, tt.wantReq)
			}
		})
	}
}

func TestTopic(t *testing.T) {
	s := startSim(t, hsssim.Config{})
	urn := "urn:smn:eu-de:" + testProject + ":ops"
	s.AddTopic(hsssim.Topic{URN: urn, Name: "ops", DisplayName: "Ops", Subscriptions: []hsssim.Subscription{
		{Protocol: "email", Endpoint: "ops@example.com", Status: 1},
		{Protocol: "sms", Endpoint: "+4900000", Status: 0},
	}})
	unconfirmed := "urn:smn:eu-de:" + testProject + ":new"
	s.AddTopic(hsssim.Topic{URN: unconfirmed, Name: "new", Subscriptions: []hsssim.Subscription{{Protocol: "sms", Status: 0}}})
	c := newClient(t, s, nil)
	tests := []struct {
		urn  string
		want cloud.TopicInfo
	}{
		{urn, cloud.TopicInfo{URN: urn, DisplayName: "Ops", Exists: true, Confirmed: true, Protocols: []string{"email"}}},
		{unconfirmed, cloud.TopicInfo{URN: unconfirmed, DisplayName: "new", Exists: true}},
		{"urn:smn:eu-de:x:missing", cloud.TopicInfo{URN: "urn:smn:eu-de:x:missing"}},
	}
	for _, tt := range tests {
		got, err := c.Topic(context.Background(), tt.urn)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("Topic(%s) = %+v, want %+v", tt.urn, got, tt.want)
		}
	}
}

func TestCredentialsFromEnv(t *testing.T) {
	tests := []struct {
		env     map[string]string
		wantErr string
	}{
		{map[string]string{}, "no cloud credentials: set HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK and HUAWEICLOUD_SDK_PROJECT_ID"},
		{map[string]string{cloud.EnvAK: "a"}, "incomplete cloud credentials: set HUAWEICLOUD_SDK_SK, HUAWEICLOUD_SDK_PROJECT_ID"},
		{map[string]string{cloud.EnvAK: "AKvisible1234", cloud.EnvSK: "SKvisible5678", cloud.EnvProjectID: "p", cloud.EnvSecurityToken: "TOKENvisible"}, ""},
	}
	for _, tt := range tests {
		c, err := cloud.CredentialsFromEnv(func(k string) string { return tt.env[k] })
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr) {
			t.Errorf("env %v: err = %v, want %q", tt.env, err, tt.wantErr)
		}
		if err != nil {
			continue
		}
		var logs bytes.Buffer
		slog.New(slog.NewJSONHandler(&logs, nil)).Info("creds", "c", c, "sk", c.SK)
		b, _ := json.Marshal(c)
		shown := fmt.Sprintf("%v %+v %#v %s %s", c, c, c, logs.String(), b)
		if strings.Contains(shown, "visible") || !strings.Contains(shown, "[redacted]") {
			t.Errorf("formatted credentials show a secret: %s", shown)
		}
		if string(c.AK) != "AKvisible1234" || string(c.SK) != "SKvisible5678" {
			t.Errorf("credentials not read: project %s", c.ProjectID)
		}
	}
}

func TestEndpoints(t *testing.T) {
	creds := cloud.Credentials{AK: "a", SK: "b", ProjectID: "p"}
	tests := []struct {
		opts    cloud.Options
		hss     string
		wantErr bool
	}{
		{cloud.Options{Region: "ap-southeast-1"}, "https://hss.ap-southeast-1.myhuaweicloud.com", false},
		{cloud.Options{Region: "eu-de"}, "https://hss.eu-de.otc.t-systems.com", false},
		{cloud.Options{Region: "eu-de", HSSEndpoint: "http://127.0.0.1:1"}, "http://127.0.0.1:1", false},
		{cloud.Options{}, "", true},
		{cloud.Options{Region: "xx-nowhere-9"}, "", true},
	}
	for _, tt := range tests {
		c, err := cloud.New(creds, tt.opts)
		if (err != nil) != tt.wantErr {
			t.Errorf("New(%+v) err = %v", tt.opts, err)
			continue
		}
		if err == nil {
			if h, _ := c.Endpoints(); h != tt.hss {
				t.Errorf("New(%+v) HSS endpoint = %s, want %s", tt.opts, h, tt.hss)
			}
		}
	}
}

// TestContextEndsCall checks that a call ends with its context although the
// SDK itself takes none.
func TestContextEndsCall(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer srv.Close()
	c, err := cloud.New(cloud.Credentials{AK: testAK, SK: testSK, ProjectID: testProject},
		cloud.Options{HSSEndpoint: srv.URL, SMNEndpoint: srv.URL, Retries: -1, Timeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = c.ListHosts(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's deadline", err)
	}
}

func TestAPIErrorText(t *testing.T) {
	tests := []struct {
		err  cloud.APIError
		want string
	}{
		{cloud.APIError{Op: "SetTwoFactorLoginConfig", Status: 400, Code: "HSS.1007", Message: "agent\noffline", RequestID: "r1"},
			"SetTwoFactorLoginConfig: HTTP 400 HSS.1007: agent offline (request id r1)"},
		{cloud.APIError{Op: "ListTwoFactorLoginHost", Status: 404, Code: "APIGW.0101", Message: "The API does not exist", RequestID: "r2"},
			"ListTwoFactorLoginHost: HTTP 404 APIGW.0101: The API does not exist (request id r2); the endpoint does not offer this API (Open Telekom Cloud does not document the HSS 2FA API): check --hss-endpoint and --region"},
		{cloud.APIError{Op: "ListHostStatus", Status: 502}, "ListHostStatus: HTTP 502"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q\nwant      %q", got, tt.want)
		}
	}
	if cloud.Fatal(&cloud.APIError{Status: 429, Code: "APIGW.0308"}) || !cloud.Fatal(&cloud.APIError{Status: 403, Code: "HSS.0013"}) {
		t.Errorf("Fatal: 429 must not be fatal, 403 must")
	}
}

// TestListPagingWithoutTotal checks that a list whose answers carry no
// total is paged to its end (a short or empty page), and that an endpoint
// that never ends is stopped.
func TestListPagingWithoutTotal(t *testing.T) {
	tests := []struct {
		name      string
		hosts     int
		wantPages int
	}{
		{"short last page", 7, 3},
		{"empty last page", 6, 3},
		{"one short page", 2, 1},
		{"none", 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startSim(t, hsssim.Config{OmitTotal: true})
			for i := range tt.hosts {
				s.AddHost(hsssim.Host{Name: fmt.Sprintf("web-%02d", i)})
			}
			c := newClient(t, s, func(_ *cloud.Credentials, o *cloud.Options) { o.PageSize = 3 })
			hosts, err := c.ListHosts(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			tf, err := c.ListTwoFactor(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(hosts) != tt.hosts || len(tf) != tt.hosts {
				t.Errorf("ListHosts, ListTwoFactor returned %d, %d hosts, want %d", len(hosts), len(tf), tt.hosts)
			}
			if a, b := s.Requests(hsssim.OpListHostStatus), s.Requests(hsssim.OpListTwoFactorLoginHost); a != tt.wantPages || b != tt.wantPages {
				t.Errorf("pages = %d, %d, want %d", a, b, tt.wantPages)
			}
		})
	}
	t.Run("topic on a later page", func(t *testing.T) {
		s := startSim(t, hsssim.Config{OmitTotal: true})
		for i := range 5 {
			urn := fmt.Sprintf("urn:smn:eu-de:%s:t%d", testProject, i)
			var subs []hsssim.Subscription
			for j := range 4 {
				subs = append(subs, hsssim.Subscription{Protocol: "http", Status: 1, Endpoint: fmt.Sprint(j)})
			}
			if i == 4 {
				subs = append(subs, hsssim.Subscription{Protocol: "sms", Status: 1})
			}
			s.AddTopic(hsssim.Topic{URN: urn, Name: fmt.Sprintf("t%d", i), Subscriptions: subs})
		}
		c := newClient(t, s, func(_ *cloud.Credentials, o *cloud.Options) { o.PageSize = 2 })
		info, err := c.Topic(context.Background(), fmt.Sprintf("urn:smn:eu-de:%s:t4", testProject))
		if err != nil {
			t.Fatal(err)
		}
		if !info.Exists || !info.Confirmed {
			t.Errorf("topic = %+v, want exists and confirmed (its sms subscription is on the third page)", info)
		}
	})
	t.Run("endless", func(t *testing.T) {
		s := startSim(t, hsssim.Config{OmitTotal: true, IgnoreOffset: true})
		for i := range 4 {
			s.AddHost(hsssim.Host{Name: fmt.Sprintf("web-%02d", i)})
		}
		c := newClient(t, s, func(_ *cloud.Credentials, o *cloud.Options) { o.PageSize = 2; o.MaxPages = 5 })
		if _, err := c.ListHosts(context.Background()); err == nil || !strings.Contains(err.Error(), "ListHostStatus: more than 5 pages") {
			t.Errorf("ListHosts err = %v, want more than 5 pages", err)
		}
		if got := s.Requests(hsssim.OpListHostStatus); got != 5 {
			t.Errorf("pages asked = %d, want 5", got)
		}
		s.AddTopic(hsssim.Topic{URN: "urn:smn:eu-de:p:a", Name: "a"})
		s.AddTopic(hsssim.Topic{URN: "urn:smn:eu-de:p:b", Name: "b"})
		if _, err := c.Topic(context.Background(), "urn:smn:eu-de:p:none"); err == nil || !strings.Contains(err.Error(), "ListTopics: more than 5 pages") {
			t.Errorf("Topic err = %v, want more than 5 pages", err)
		}
	})
}

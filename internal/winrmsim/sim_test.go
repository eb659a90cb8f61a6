package winrmsim

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/Azure/go-ntlmssp"
	"github.com/factorgate/factorgate/internal/winprofiles"
)

func TestNTLMVerify(t *testing.T) {
	tests := []struct {
		name, user, password string
		ok                   bool
	}{
		{"right", "Administrator", "pw", true},
		{"user case does not matter", "administrator", "pw", true},
		{"wrong password", "Administrator", "PW", false},
		{"wrong user", "Guest", "pw", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			challenge, server := ntlmChallenge()
			auth, err := ntlmssp.ProcessChallenge(challenge, tt.user, tt.password, true)
			if err != nil {
				t.Fatal(err)
			}
			err = ntlmVerify(auth, server, "Administrator", "pw")
			if (err == nil) != tt.ok {
				t.Fatalf("ntlmVerify = %v, want ok %v", err, tt.ok)
			}
			// The same answer to another challenge must fail: no replay.
			_, other := ntlmChallenge()
			if ntlmVerify(auth, other, "Administrator", "pw") == nil {
				t.Fatal("an answer to one challenge verified against another")
			}
		})
	}
	if ntlmVerify([]byte("NTLMSSP\x00\x03\x00\x00\x00"), make([]byte, 8), "a", "b") == nil {
		t.Error("a truncated message verified")
	}
}

func TestStartErrors(t *testing.T) {
	ctx := context.Background()
	for _, cfg := range []Config{
		{User: "a"},
		{User: "a", Password: "b", Auth: "kerberos"},
		{User: "a", Password: "b", Hosts: []HostSpec{{Name: "x", Profile: "windows-95"}}},
	} {
		if s, err := Start(ctx, cfg); err == nil {
			s.Close()
			t.Errorf("Start(%+v) succeeded", cfg)
		}
	}
}

func TestHTTPAnswers(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sim, err := Start(ctx, Config{TLS: true, User: "Administrator", Password: "pw", Hosts: []HostSpec{{Name: "h", Profile: winprofiles.Server2019}}})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(sim.CAPEM()) {
		t.Fatal("CAPEM holds no certificate")
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	url := "https://127.0.0.1:" + strconv.Itoa(sim.Hosts()[0].Port) + "/wsman"
	post := func(user, pass, body string) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/soap+xml;charset=UTF-8")
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	tests := []struct {
		name, user, pass, body string
		status                 int
		authHeader             string
	}{
		{"no credentials", "", "", "", 401, "Negotiate"},
		{"wrong password", "Administrator", "nope", "", 401, `Basic realm="WSMAN"`},
		{"not xml", "Administrator", "pw", "<<", 500, ""},
		{"unknown action", "Administrator", "pw", `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"><s:Header><a:Action>urn:nothing</a:Action><w:ResourceURI>` + shellURI + `</w:ResourceURI></s:Header><s:Body/></s:Envelope>`, 500, ""},
		{"receive on no shell", "Administrator", "pw", `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell"><s:Header><a:Action>` + actionReceive + `</a:Action><w:ResourceURI>` + shellURI + `</w:ResourceURI><w:SelectorSet><w:Selector Name="ShellId">X</w:Selector></w:SelectorSet></s:Header><s:Body><rsp:Receive><rsp:DesiredStream CommandId="Y">stdout</rsp:DesiredStream></rsp:Receive></s:Body></s:Envelope>`, 500, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := post(tt.user, tt.pass, tt.body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.authHeader != "" && !strings.Contains(strings.Join(resp.Header.Values("WWW-Authenticate"), "|"), tt.authHeader) {
				t.Errorf("WWW-Authenticate %q lacks %q", resp.Header.Values("WWW-Authenticate"), tt.authHeader)
			}
		})
	}
	if st := sim.Stats("h"); st.Unauthorized != 2 || st.Faults != 3 {
		t.Errorf("stats %+v", st)
	}
	cancel() // ending the context stops the hosts
	<-sim.done
}

func TestReceiveChunks(t *testing.T) {
	sim := &Sim{cfg: Config{ChunkSize: 4}}
	h := &host{sim: sim}
	cmd := &command{stdout: []byte("0123456789"), stderr: []byte("e"), exitCode: 3}
	var got bytes.Buffer
	for i := 0; i < 3; i++ {
		resp := h.receive("C", cmd)
		done := strings.Contains(resp, stateDone)
		if done != (i == 2) {
			t.Fatalf("receive %d: done %v", i, done)
		}
		start := strings.Index(resp, `Name="stdout" CommandId="C">`)
		if start >= 0 {
			rest := resp[start+len(`Name="stdout" CommandId="C">`):]
			b, _ := base64.StdEncoding.DecodeString(rest[:strings.Index(rest, "<")])
			got.Write(b)
		}
		if i == 2 && (!strings.Contains(resp, "<rsp:ExitCode>3</rsp:ExitCode>") || !strings.Contains(resp, base64.StdEncoding.EncodeToString([]byte("e")))) {
			t.Errorf("last receive lacks the exit code or stderr: %s", resp)
		}
	}
	if got.String() != "0123456789" {
		t.Errorf("stdout %q", got.String())
	}
}

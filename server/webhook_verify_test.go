package server

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/factorgate/factorgate/history"
	"github.com/factorgate/factorgate/internal/testutil"
)

// verifyDelivery is the check README.md gives receivers, word for word
// (TestWebhookVerifyAsREADME holds them together).
func verifyDelivery(secret []byte, ts, sig string, body []byte, now time.Time) bool {
	t, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || now.Sub(time.Unix(t, 0)).Abs() > 5*time.Minute {
		return false // not a timestamp, or a delivery replayed later
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	return hmac.Equal([]byte(sig), []byte("sha256="+hex.EncodeToString(mac.Sum(nil))))
}

// readmeBlock returns the fenced block that follows marker in README.md.
func readmeBlock(t *testing.T, marker string) string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)<!-- ` + regexp.QuoteMeta(marker) + ` -->\n` + "```" + `[a-z]*\n(.*?)` + "```").FindSubmatch(b)
	if m == nil {
		t.Fatalf("README.md has no block after <!-- %s -->", marker)
	}
	return string(m[1])
}

// delivery is one webhook request as a receiver sees it.
type delivery struct {
	ts, sig string
	body    []byte
}

// captureDelivery sends one signed payload and returns what the receiver got.
func captureDelivery(t *testing.T, secret string, now func() time.Time) delivery {
	t.Helper()
	var mu sync.Mutex
	var got []delivery
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, delivery{r.Header.Get(TimestampHeader), r.Header.Get(SignatureHeader), b})
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	ws, err := newWebhookSender(Webhook{URL: srv.URL, Secret: secret}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if now != nil {
		ws.now = now
	}
	p := Payload{Schema: PayloadSchema, Run: RunRef{ID: 7, Inventory: "fleet's \"prod\".yaml\n"},
		Events: []history.Event{{Kind: history.EventFellFromEligible, Host: "web-01", From: "eligible", To: "ineligible"}}}
	if !ws.send(context.Background(), p) {
		t.Fatal("delivery refused")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 {
		t.Fatalf("%d deliveries, want 1", len(got))
	}
	return got[0]
}

// TestWebhookVerifyAsREADME: a delivery carries its timestamp, and its
// signature covers the timestamp and the body; the checks README.md gives
// (the shell one run by bash with openssl, the Go one compiled here) accept
// it, and refuse a changed body, a changed timestamp, a wrong key and a
// delivery replayed ten minutes later.
func TestWebhookVerifyAsREADME(t *testing.T) {
	goBlock := readmeBlock(t, "webhook-verify-go")
	src, err := os.ReadFile("webhook_verify_test.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(src, []byte(goBlock)) {
		t.Errorf("README's Go check is not verifyDelivery of this test:\n%s", goBlock)
	}

	d := captureDelivery(t, "s3cret", nil)
	ts, err := strconv.ParseInt(d.ts, 10, 64)
	if err != nil || time.Since(time.Unix(ts, 0)).Abs() > time.Minute {
		t.Fatalf("%s = %q, want the Unix time now", TimestampHeader, d.ts)
	}
	old := captureDelivery(t, "s3cret", func() time.Time { return time.Now().Add(-10 * time.Minute) })
	later := strconv.FormatInt(ts+1, 10)
	cases := []struct {
		name   string
		secret string
		d      delivery
		ok     bool
	}{
		{"as sent", "s3cret", d, true},
		{"body changed", "s3cret", delivery{d.ts, d.sig, bytes.Replace(d.body, []byte("ineligible"), []byte("eligible!!"), 1)}, false},
		{"timestamp changed", "s3cret", delivery{later, d.sig, d.body}, false},
		{"signature over the body alone", "s3cret", delivery{d.ts, bodyOnlySig("s3cret", d.body), d.body}, false},
		{"wrong key", "other", d, false},
		{"replayed ten minutes later", "s3cret", old, false},
		{"no timestamp", "s3cret", delivery{"", d.sig, d.body}, false},
	}
	shell := readmeBlock(t, "webhook-verify-sh")
	openssl, lookErr := exec.LookPath("openssl")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := verifyDelivery([]byte(c.secret), c.d.ts, c.d.sig, c.d.body, time.Now()); got != c.ok {
				t.Errorf("Go check = %v, want %v", got, c.ok)
			}
			if lookErr != nil {
				testutil.Missing(t, "openssl not found: the shell check is not run (apt-get install openssl)")
			}
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "body.json"), c.d.body, 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("bash", "-c", "set -u\n"+shell)
			cmd.Dir = dir
			cmd.Env = []string{"PATH=" + filepath.Dir(openssl) + ":/usr/bin:/bin", "TS=" + c.d.ts, "SIG=" + c.d.sig, "FACTORGATE_WEBHOOK_SECRET=" + c.secret}
			out, err := cmd.CombinedOutput()
			if (err == nil) != c.ok {
				t.Errorf("shell check: %v %q, want ok %v", err, out, c.ok)
			}
		})
	}
}

func bodyOnlySig(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// TestWebhookRetrySignedAnew: each attempt carries its own timestamp and a
// signature over it.
func TestWebhookRetrySignedAnew(t *testing.T) {
	var mu sync.Mutex
	var got []delivery
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		got = append(got, delivery{r.Header.Get(TimestampHeader), r.Header.Get(SignatureHeader), b})
		if len(got) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	ws, err := newWebhookSender(Webhook{URL: srv.URL, Secret: "s3cret", Backoff: time.Millisecond}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Now()
	ws.now = func() time.Time { clock = clock.Add(2 * time.Second); return clock }
	if !ws.send(context.Background(), Payload{Schema: PayloadSchema}) {
		t.Fatal("not delivered")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || got[0].ts == got[1].ts || got[0].sig == got[1].sig {
		t.Fatalf("attempts = %+v, want two with their own timestamps", got)
	}
	for i, d := range got {
		if d.sig != Sign("s3cret", d.ts, d.body) || !strings.HasPrefix(d.sig, "sha256=") {
			t.Errorf("attempt %d: signature %q does not cover its timestamp %s", i+1, d.sig, d.ts)
		}
	}
}

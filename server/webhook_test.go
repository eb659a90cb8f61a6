package server

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/factorgate/factorgate/history"
)

func TestWebhookRetries(t *testing.T) {
	cases := []struct {
		name         string
		codes        []int // answers in turn; the last repeats
		slow         bool  // the first answer comes after the attempt timeout
		attempts     int
		wantOK       bool
		wantAttempts int
	}{
		{"accepted at once", []int{200}, false, 5, true, 1},
		{"204 is accepted", []int{204}, false, 5, true, 1},
		{"5xx then accepted", []int{500, 502, 200}, false, 5, true, 3},
		{"429 is retried", []int{429, 200}, false, 5, true, 2},
		{"4xx is final", []int{400}, false, 5, false, 1},
		{"redirect is not followed", []int{302}, false, 5, false, 1},
		{"bounded attempts", []int{503}, false, 3, false, 3},
		{"a slow answer times out and is retried", []int{200}, true, 5, true, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var mu sync.Mutex
			n := 0
			stop := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				i := n
				n++
				mu.Unlock()
				if c.slow && i == 0 {
					select {
					case <-r.Context().Done():
					case <-stop:
					}
					return
				}
				w.Header().Set("Location", "/elsewhere")
				w.WriteHeader(c.codes[min(i, len(c.codes)-1)])
			}))
			defer srv.Close()
			defer close(stop) // before Close, which waits for handlers
			var logs bytes.Buffer
			ws, err := newWebhookSender(Webhook{URL: srv.URL + "/hooks/T0K3N", Attempts: c.attempts, Backoff: time.Millisecond, Timeout: 200 * time.Millisecond},
				slog.New(slog.NewTextHandler(&logs, nil)))
			if err != nil {
				t.Fatal(err)
			}
			ok := ws.send(context.Background(), Payload{Schema: PayloadSchema, Run: RunRef{ID: 2}, Events: []history.Event{{Kind: history.EventFellFromEligible, Host: "a"}}})
			mu.Lock()
			defer mu.Unlock()
			if ok != c.wantOK || n != c.wantAttempts {
				t.Errorf("send = %v after %d attempts, want %v after %d", ok, n, c.wantOK, c.wantAttempts)
			}
			if strings.Contains(logs.String(), "T0K3N") {
				t.Errorf("the webhook URL's token was logged:\n%s", logs.String())
			}
		})
	}
}

func TestWebhookStopsOnCancel(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }))
	defer srv.Close()
	ws, err := newWebhookSender(Webhook{URL: srv.URL, Attempts: 100, Backoff: time.Hour}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	done := make(chan bool)
	go func() { done <- ws.send(ctx, Payload{}) }()
	select {
	case ok := <-done:
		if ok {
			t.Error("send reported success")
		}
	case <-time.After(waitLimit):
		t.Fatal("send did not give up when its context was canceled")
	}
}

package server

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Webhook is where drift events are posted. Each delivery is a JSON
// [Payload] POSTed with Content-Type application/json. Each attempt carries
// the header X-Factorgate-Timestamp, the Unix time in seconds it was sent;
// with a Secret, the header X-Factorgate-Signature carries "sha256=" and the
// hex HMAC-SHA256, under that secret, of the timestamp, a dot and the body
// ("1764500000.{...}"), so that a receiver can refuse a delivery replayed
// later (see [SignatureHeader]). A network error, a 5xx or a 429 is retried
// with exponential backoff, signed anew; any other status ends the delivery.
type Webhook struct {
	// URL receives the POST; empty disables the webhook. It may hold a
	// token: it is never logged whole.
	URL string
	// Secret signs the body; empty sends it unsigned.
	Secret string
	// Timeout bounds each attempt; zero is 10s.
	Timeout time.Duration
	// Attempts bounds the tries; zero is 5.
	Attempts int
	// Backoff is the wait before the second attempt, doubled before each
	// next one up to a minute (or the server's Retry-After); zero is 1s.
	Backoff time.Duration
	// Client sends the requests; nil uses a client of its own.
	Client *http.Client
}

// SignatureHeader carries the HMAC of a signed delivery: "sha256=" and the
// hex HMAC-SHA256 of TimestampHeader's value, ".", and the body. A receiver
// recomputes it, compares it in constant time, and refuses a timestamp more
// than a few minutes from its clock.
const SignatureHeader = "X-Factorgate-Signature"

// TimestampHeader carries when an attempt was sent, in Unix seconds.
const TimestampHeader = "X-Factorgate-Timestamp"

// Sign returns the value of [SignatureHeader] for body sent at timestamp
// (the value of [TimestampHeader]) under secret.
func Sign(secret, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

const maxBackoff = time.Minute

type webhookSender struct {
	cfg  Webhook
	log  *slog.Logger
	host string // what logs say of the URL
	now  func() time.Time
}

// CheckWebhookURL reports whether u can be a [Webhook] URL. Its error never
// quotes u, which may hold a token.
func CheckWebhookURL(u string) error {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return errors.New("webhook: want an http:// or https:// URL")
	}
	return nil
}

func newWebhookSender(cfg Webhook, log *slog.Logger) (*webhookSender, error) {
	if cfg.URL == "" {
		return nil, nil
	}
	if err := CheckWebhookURL(cfg.URL); err != nil {
		return nil, err
	}
	u, _ := url.Parse(cfg.URL)
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = 5
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = time.Second
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	return &webhookSender{cfg: cfg, log: log, host: u.Scheme + "://" + u.Host, now: time.Now}, nil
}

// send delivers p, retrying as [Webhook] says, and reports whether it was
// accepted (2xx). It gives up early when ctx is canceled.
func (w *webhookSender) send(ctx context.Context, p Payload) bool {
	body, err := json.Marshal(p)
	if err != nil {
		w.log.Error("webhook: cannot encode the payload", "err", err)
		return false
	}
	wait := w.cfg.Backoff
	for attempt := 1; attempt <= w.cfg.Attempts; attempt++ {
		retry, after, err := w.attempt(ctx, body)
		if err == nil {
			w.log.Info("webhook delivered", "to", w.host, "run", p.Run.ID, "events", len(p.Events), "attempt", attempt)
			return true
		}
		if !retry || attempt == w.cfg.Attempts {
			w.log.Error("webhook not delivered", "to", w.host, "run", p.Run.ID, "attempts", attempt, "err", err)
			return false
		}
		if after > 0 {
			wait = min(after, maxBackoff)
		}
		w.log.Warn("webhook attempt failed; retrying", "to", w.host, "attempt", attempt, "in", wait, "err", err)
		select {
		case <-ctx.Done():
			w.log.Error("webhook not delivered: stopping", "to", w.host, "run", p.Run.ID, "attempts", attempt)
			return false
		case <-time.After(wait):
		}
		wait = min(wait*2, maxBackoff)
	}
	return false
}

// attempt makes one POST. retry says whether a failure may pass; after is
// the server's Retry-After, if any.
func (w *webhookSender) attempt(ctx context.Context, body []byte) (retry bool, after time.Duration, err error) {
	ctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return false, 0, errors.New("bad webhook URL")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "factorgate")
	ts := strconv.FormatInt(w.now().Unix(), 10)
	req.Header.Set(TimestampHeader, ts)
	if w.cfg.Secret != "" {
		req.Header.Set(SignatureHeader, Sign(w.cfg.Secret, ts, body))
	}
	resp, err := w.cfg.Client.Do(req)
	if err != nil {
		// The error quotes the URL, which may hold a token: say only what
		// kind of failure it was.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return true, 0, err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return false, 0, nil
	case resp.StatusCode >= 500, resp.StatusCode == http.StatusTooManyRequests:
		var after time.Duration
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			after = time.Duration(s) * time.Second
		}
		return true, after, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return false, 0, fmt.Errorf("HTTP %d", resp.StatusCode)
}

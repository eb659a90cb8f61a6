// Package cloud talks to the Host Security Service (HSS v5) and Simple
// Message Notification (SMN v2) APIs through the official Huawei Cloud Go SDK,
// and turns what they say into factorgate's cloud facts.
//
// # Entry points
//
// Build a [Client] with [New] from [Credentials] (usually
// [CredentialsFromEnv]) and [Options]. Its list calls page through every
// result ([Client.ListHosts], [Client.ListTwoFactor]); [Client.SetTwoFactor]
// turns 2FA on or off for a batch of hosts; [Client.Topic] checks an SMN
// topic. Calls are retried with backoff on 429 and 5xx, and a failure the
// API answers is an [*APIError] carrying the code, message and request id.
//
// [NewView] loads the HSS host list and the 2FA host list once and fills
// the cloud facts of each scanned host: it implements scanner.CloudView.
//
// # Endpoints
//
// Huawei Cloud endpoints are found from the region; Open Telekom Cloud
// (eu-de, eu-nl) and the local emulator (internal/hsssim) are reached through
// [Options.HSSEndpoint] and [Options.SMNEndpoint], plain http included.
//
// # Secrets
//
// The access key and secret key are held as [Secret] values, which redact
// themselves in logs and formatted output, and are scrubbed from any error
// text that passes through the client.
package cloud

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
	hss "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/hss/v5"
	hssregion "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/hss/v5/region"
	smn "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/smn/v2"
	smnregion "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/smn/v2/region"
)

// Options tunes a [Client]. The zero value (plus a region or endpoints)
// works.
type Options struct {
	// Region is the region id, e.g. ap-southeast-1 or eu-de.
	Region string
	// HSSEndpoint and SMNEndpoint override the endpoints found from the
	// region, e.g. https://hss.eu-de.otc.t-systems.com or the emulator's URL.
	HSSEndpoint string
	SMNEndpoint string
	// CAFile is a PEM file of extra certificate authorities to trust.
	CAFile string
	// EnterpriseProjectID is sent with HSS calls when set; all_granted_eps
	// covers every enterprise project the credentials may see.
	EnterpriseProjectID string
	// Retries is how many times a call answered 429 or 5xx, or failing on
	// the network, is tried again; negative means none. Zero uses 4.
	Retries int
	// RetryWait is the first backoff, doubled on each retry up to
	// MaxRetryWait. Zero uses 1s and 30s.
	RetryWait    time.Duration
	MaxRetryWait time.Duration
	// Timeout bounds each HTTP request. Zero uses 30s.
	Timeout time.Duration
	// PageSize is the limit of each list page; zero uses the API maximum.
	PageSize int
	// MaxPages bounds the pages of one list, against an endpoint that
	// never ends one; zero uses DefaultMaxPages.
	MaxPages int
}

// otcEndpoints are the Open Telekom Cloud regions, which the SDK's region
// tables do not list.
var otcEndpoints = map[string][2]string{
	"eu-de": {"https://hss.eu-de.otc.t-systems.com", "https://smn.eu-de.otc.t-systems.com"},
	"eu-nl": {"https://hss.eu-nl.otc.t-systems.com", "https://smn.eu-nl.otc.t-systems.com"},
}

// Client calls the HSS and SMN APIs of one project. It is safe for
// concurrent use.
type Client struct {
	creds   Credentials
	opts    Options
	hss     *hss.HssClient
	smn     *smn.SmnClient
	tr      *callTransport
	retries int
	// Sleep waits between retries; tests may shorten it through RetryWait.
	hssURL, smnURL string
}

// New builds a client. It makes no call: bad credentials show on the first.
func New(creds Credentials, opts Options) (*Client, error) {
	if creds.AK == "" || creds.SK == "" || creds.ProjectID == "" {
		return nil, errors.New("cloud: credentials need an access key, a secret key and a project id")
	}
	if opts.Retries == 0 {
		opts.Retries = 4
	}
	if opts.Retries < 0 {
		opts.Retries = 0
	}
	if opts.RetryWait <= 0 {
		opts.RetryWait = time.Second
	}
	if opts.MaxRetryWait <= 0 {
		opts.MaxRetryWait = 30 * time.Second
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	hssURL, smnURL, err := endpoints(opts)
	if err != nil {
		return nil, err
	}
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.Proxy = http.ProxyFromEnvironment
	if opts.CAFile != "" {
		pemBytes, err := os.ReadFile(opts.CAFile)
		if err != nil {
			return nil, fmt.Errorf("cloud: CA file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pemBytes) {
			return nil, fmt.Errorf("cloud: CA file %s: no PEM certificate in it", opts.CAFile)
		}
		base.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	tr := &callTransport{base: base, calls: map[string]*callState{}}

	build := func(endpoint string) (*core.HcHttpClient, error) {
		cred, err := basic.NewCredentialsBuilder().
			WithAk(string(creds.AK)).WithSk(string(creds.SK)).
			WithSecurityToken(string(creds.SecurityToken)).
			WithProjectId(creds.ProjectID).SafeBuild()
		if err != nil {
			return nil, errors.New("cloud: credentials: " + scrub(err.Error(), creds))
		}
		hc := config.DefaultHttpConfig().WithTimeout(opts.Timeout).WithHttpRoundTripper(tr)
		c, err := core.NewHcHttpClientBuilder().WithCredential(cred).
			WithEndpoints([]string{endpoint}).WithHttpConfig(hc).SafeBuild()
		if err != nil {
			return nil, errors.New("cloud: client: " + scrub(err.Error(), creds))
		}
		return c, nil
	}
	hc, err := build(hssURL)
	if err != nil {
		return nil, err
	}
	sc, err := build(smnURL)
	if err != nil {
		return nil, err
	}
	return &Client{creds: creds, opts: opts, hss: hss.NewHssClient(hc), smn: smn.NewSmnClient(sc),
		tr: tr, retries: opts.Retries, hssURL: hssURL, smnURL: smnURL}, nil
}

func endpoints(opts Options) (hssURL, smnURL string, err error) {
	hssURL, smnURL = opts.HSSEndpoint, opts.SMNEndpoint
	if hssURL != "" && smnURL != "" {
		return hssURL, smnURL, nil
	}
	if opts.Region == "" {
		return "", "", errors.New("cloud: no region: pass --region (or set " + EnvRegion + "), or both --hss-endpoint and --smn-endpoint")
	}
	otc, isOTC := otcEndpoints[opts.Region]
	if hssURL == "" {
		if r, err := hssregion.SafeValueOf(opts.Region); err == nil && len(r.Endpoints) > 0 {
			hssURL = r.Endpoints[0]
		} else if isOTC {
			hssURL = otc[0]
		} else {
			return "", "", fmt.Errorf("cloud: region %q has no known HSS endpoint: pass --hss-endpoint", opts.Region)
		}
	}
	if smnURL == "" {
		if r, err := smnregion.SafeValueOf(opts.Region); err == nil && len(r.Endpoints) > 0 {
			smnURL = r.Endpoints[0]
		} else if isOTC {
			smnURL = otc[1]
		} else {
			return "", "", fmt.Errorf("cloud: region %q has no known SMN endpoint: pass --smn-endpoint", opts.Region)
		}
	}
	return hssURL, smnURL, nil
}

// Endpoints are the HSS and SMN endpoints the client calls.
func (c *Client) Endpoints() (hssURL, smnURL string) { return c.hssURL, c.smnURL }

// APIError is an error answer of the HSS or SMN API.
type APIError struct {
	// Op is the SDK's name of the call, e.g. ListHostStatus.
	Op        string
	Status    int
	Code      string
	Message   string
	RequestID string
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: HTTP %d", e.Op, e.Status)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + oneLine(e.Message))
	}
	if e.RequestID != "" {
		b.WriteString(" (request id " + e.RequestID + ")")
	}
	if e.Status == http.StatusNotFound && strings.HasPrefix(e.Code, "APIGW.") {
		b.WriteString("; the endpoint does not offer this API (Open Telekom Cloud does not document the HSS 2FA API): check --hss-endpoint and --region")
	}
	return b.String()
}

// Retryable reports whether the call may succeed if tried again: 429 and 5xx.
func (e *APIError) Retryable() bool {
	return e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// Fatal reports whether err means no further call can succeed: the
// credentials are refused (401, 403, APIGW.*) or the API is missing.
func Fatal(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch {
	case ae.Status == http.StatusUnauthorized || ae.Status == http.StatusForbidden:
		return true
	case ae.Code == "HSS.0010" || ae.Code == "HSS.0013":
		return true
	case strings.HasPrefix(ae.Code, "APIGW."):
		return ae.Status != http.StatusTooManyRequests
	}
	return false
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// scrub removes the access key, secret key and token from s.
func scrub(s string, c Credentials) string {
	for _, v := range []Secret{c.AK, c.SK, c.SecurityToken} {
		if len(v) >= 4 {
			s = strings.ReplaceAll(s, string(v), "[redacted]")
		}
	}
	return s
}

// callHeader carries the id of a call from the SDK to callTransport. Its
// name holds an underscore, which the SDK's signer leaves out of the
// signature, and the transport removes it before the request leaves.
const callHeader = "X_factorgate_call"

type callState struct {
	ctx       context.Context
	requestID string
}

// callTransport gives each SDK request the context of its call (the SDK has
// none) and records the X-Request-Id of its answer.
type callTransport struct {
	base  http.RoundTripper
	mu    sync.Mutex
	calls map[string]*callState
	seq   atomic.Uint64
}

func (t *callTransport) begin(ctx context.Context) (string, *callState) {
	id := strconv.FormatUint(t.seq.Add(1), 10)
	st := &callState{ctx: ctx}
	t.mu.Lock()
	t.calls[id] = st
	t.mu.Unlock()
	return id, st
}

func (t *callTransport) end(id string) {
	t.mu.Lock()
	delete(t.calls, id)
	t.mu.Unlock()
}

func (t *callTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	id := req.Header.Get(callHeader)
	t.mu.Lock()
	st := t.calls[id]
	t.mu.Unlock()
	if st == nil {
		return t.base.RoundTrip(req)
	}
	req = req.Clone(req.Context())
	req.Header.Del(callHeader)
	ctx, cancel := context.WithCancel(req.Context())
	stop := context.AfterFunc(st.ctx, cancel)
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		stop()
		cancel()
		return nil, err
	}
	t.mu.Lock()
	st.requestID = resp.Header.Get("X-Request-Id")
	t.mu.Unlock()
	resp.Body = &releaseBody{ReadCloser: resp.Body, release: func() { stop(); cancel() }}
	return resp, nil
}

type releaseBody struct {
	io.ReadCloser
	once    sync.Once
	release func()
}

func (b *releaseBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.release)
	return err
}

// call runs one SDK call with retries. fn gets the headers to add to the
// request; call returns the request id of the last answer.
func (c *Client) call(ctx context.Context, op string, fn func(headers map[string]string) error) (string, error) {
	wait := c.opts.RetryWait
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return "", fmt.Errorf("%s: %w", op, err)
		}
		id, st := c.tr.begin(ctx)
		err := fn(map[string]string{callHeader: id})
		c.tr.end(id)
		c.tr.mu.Lock()
		rid := st.requestID
		c.tr.mu.Unlock()
		if err == nil {
			return rid, nil
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return rid, fmt.Errorf("%s: %w", op, ctxErr)
		}
		var certErr *tls.CertificateVerificationError
		var unknownCA x509.UnknownAuthorityError
		var badHost x509.HostnameError
		trustErr := errors.As(err, &certErr) || errors.As(err, &unknownCA) || errors.As(err, &badHost)
		err = c.convert(op, err, rid)
		var ae *APIError
		retry := !trustErr && (!errors.As(err, &ae) || ae.Retryable())
		if !retry || attempt >= c.retries {
			return rid, err
		}
		d := wait/2 + rand.N(wait/2+1)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return rid, fmt.Errorf("%s: %w", op, ctx.Err())
		case <-t.C:
		}
		wait = min(wait*2, c.opts.MaxRetryWait)
	}
}

// convert turns an SDK error into an *APIError or a scrubbed plain error.
func (c *Client) convert(op string, err error, rid string) error {
	var se *sdkerr.ServiceResponseError
	if errors.As(err, &se) {
		if se.RequestId != "" {
			rid = se.RequestId
		}
		return &APIError{Op: op, Status: se.StatusCode, Code: se.ErrorCode,
			Message: scrub(se.ErrorMessage, c.creds), RequestID: rid}
	}
	return fmt.Errorf("%s: %s", op, scrub(oneLine(err.Error()), c.creds))
}

// Package hsssim is an HTTP emulator of the Host Security Service (HSS v5)
// and Simple Message Notification (SMN v2) calls factorgate makes, for tests,
// the demo and benchmarks.
//
// # Starting
//
// [Start] listens on 127.0.0.1 and returns a [Sim] that serves both APIs at
// [Sim.URL]. Seed it with [Sim.AddHost] and [Sim.AddTopic], point the SDK
// client (or the factorgate CLI, through [Sim.Env]) at it, and read back what
// happened with [Sim.Calls], [Sim.SetCalls] and [Sim.TwoFactor].
//
// # What it checks
//
// Every request must carry an SDK-HMAC-SHA256 signature made with the
// configured access key and secret key, dated within 15 minutes of the
// emulator's clock; it is checked by the emulator's own implementation of the
// canonical request. Failures are answered as the API gateway answers them:
// 401 with an APIGW.* error_code. Every answer carries an X-Request-Id.
//
// # What it keeps
//
// Hosts with their agent and protection status, the 2FA setting of each host
// (a change takes effect after [Config.ApplyDelay]), SMN topics and their
// subscriptions. Enabling 2FA on a host without an agent answers HSS.1001, on
// a host whose agent is offline HSS.1007. [Sim.InjectFault] makes chosen
// calls fail with 429 or 500 a given number of times.
package hsssim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The operations the emulator serves, as the SDK names them. Faults and
// request counts use these names.
const (
	OpListHostStatus           = "ListHostStatus"
	OpListTwoFactorLoginHost   = "ListTwoFactorLoginHost"
	OpSetTwoFactorLoginConfig  = "SetTwoFactorLoginConfig"
	OpListTopics               = "ListTopics"
	OpListSubscriptionsByTopic = "ListSubscriptionsByTopic"
)

// Agent and protection statuses as the HSS API spells them.
const (
	AgentOnline       = "online"
	AgentOffline      = "offline"
	AgentNotInstalled = "not_installed"
	ProtectOpened     = "opened"
	ProtectClosed     = "closed"
)

// Config tunes a [Sim]. AK, SK and ProjectID are required.
type Config struct {
	AK        string
	SK        string
	ProjectID string
	// ApplyDelay is how long a 2FA change takes to show in the 2FA host list
	// (about 5 minutes on the real service).
	ApplyDelay time.Duration
	// Now is the emulator's clock, for skew checks; nil uses time.Now.
	Now func() time.Time
	// TLS serves https with a self-signed certificate; see [Sim.CACertPEM].
	TLS bool
	// OmitTotal leaves the totals (total_num, topic_count,
	// subscription_count) out of list answers, as some endpoints do: a
	// client must then page until a short page.
	OmitTotal bool
	// IgnoreOffset answers every list page from the first item, as a
	// broken endpoint would: a client must stop on its own.
	IgnoreOffset bool
}

// Host is a server as HSS knows it.
type Host struct {
	ID            string
	Name          string
	PrivateIP     string
	PublicIP      string
	OSType        string // Linux or Windows
	AgentStatus   string // online, offline, not_installed, ...
	ProtectStatus string // opened, closed, protection_exception
	HostStatus    string // ACTIVE, SHUTOFF, ...
}

// TwoFactor is the 2FA setting of one host.
type TwoFactor struct {
	Enabled          bool
	AuthType         string
	TopicURN         string
	TopicDisplayName string
}

// Topic is an SMN topic with its subscriptions.
type Topic struct {
	URN           string
	Name          string
	DisplayName   string
	Subscriptions []Subscription
}

// Subscription is one subscription of a topic. Status 1 is confirmed.
type Subscription struct {
	Protocol string
	Endpoint string
	Status   int
}

// Fault makes matching calls fail. It matches calls of operation Op (one of
// the Op* names) and, when HostID is set, only SetTwoFactorLoginConfig calls
// whose host list holds that host. It fires Times times.
type Fault struct {
	Op     string
	HostID string
	Status int    // 429 or 500, or any HTTP status
	Code   string // error_code; a default per status when empty
	Times  int
}

type hostState struct {
	Host
	tf      TwoFactor
	pending *TwoFactor
	due     time.Time
	calls   int
}

// Sim is a running emulator. Its methods are safe for concurrent use.
type Sim struct {
	cfg Config
	srv *httptest.Server

	mu       sync.Mutex
	hosts    map[string]*hostState
	order    []string
	topics   []*Topic
	faults   []*Fault
	requests map[string]int
	setCalls int
	seq      int
}

// Start starts an emulator on 127.0.0.1. It stops when ctx ends or on Close.
func Start(ctx context.Context, cfg Config) (*Sim, error) {
	if cfg.AK == "" || cfg.SK == "" || cfg.ProjectID == "" {
		return nil, errors.New("hsssim: AK, SK and ProjectID are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Sim{cfg: cfg, hosts: map[string]*hostState{}, requests: map[string]int{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("hsssim: %w", err)
	}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.srv.Listener.Close()
	s.srv.Listener = ln
	if cfg.TLS {
		s.srv.StartTLS()
	} else {
		s.srv.Start()
	}
	go func() {
		<-ctx.Done()
		s.srv.Close()
	}()
	return s, nil
}

// URL is the base URL of both APIs, e.g. http://127.0.0.1:41234.
func (s *Sim) URL() string { return s.srv.URL }

// Close stops the emulator.
func (s *Sim) Close() { s.srv.Close() }

// CACertPEM is the PEM certificate a client must trust when Config.TLS is
// set; nil otherwise.
func (s *Sim) CACertPEM() []byte {
	if s.srv.Certificate() == nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw})
}

// Env is the environment that points the factorgate CLI at the emulator:
// credentials, project id and both endpoint overrides.
func (s *Sim) Env() map[string]string {
	return map[string]string{
		"HUAWEICLOUD_SDK_AK":         s.cfg.AK,
		"HUAWEICLOUD_SDK_SK":         s.cfg.SK,
		"HUAWEICLOUD_SDK_PROJECT_ID": s.cfg.ProjectID,
		"FACTORGATE_HSS_ENDPOINT":    s.URL(),
		"FACTORGATE_SMN_ENDPOINT":    s.URL(),
	}
}

// AddHost adds or replaces a host. Empty fields take defaults: a generated
// ID, OS Linux, agent online, protection opened, status ACTIVE. It returns
// the host's ID.
func (s *Sim) AddHost(h Host) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h.ID == "" {
		s.seq++
		h.ID = fmt.Sprintf("%08x-0000-4000-8000-%012d", s.seq, s.seq)
	}
	if h.OSType == "" {
		h.OSType = "Linux"
	}
	if h.AgentStatus == "" {
		h.AgentStatus = AgentOnline
	}
	if h.ProtectStatus == "" {
		h.ProtectStatus = ProtectOpened
	}
	if h.HostStatus == "" {
		h.HostStatus = "ACTIVE"
	}
	if _, ok := s.hosts[h.ID]; !ok {
		s.order = append(s.order, h.ID)
		s.hosts[h.ID] = &hostState{Host: h}
	} else {
		s.hosts[h.ID].Host = h
	}
	return h.ID
}

// UpdateHost changes a host in place; it reports whether the host exists.
func (s *Sim) UpdateHost(id string, f func(*Host)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := s.hosts[id]
	if ok {
		f(&h.Host)
		h.Host.ID = id
	}
	return ok
}

// SetTwoFactor sets a host's 2FA at once, as if done long ago (for seeding).
func (s *Sim) SetTwoFactor(id string, tf TwoFactor) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := s.hosts[id]
	if ok {
		h.tf, h.pending = tf, nil
	}
	return ok
}

// TwoFactor is a host's 2FA setting as the 2FA host list shows it now.
func (s *Sim) TwoFactor(id string) (TwoFactor, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := s.hosts[id]
	if !ok {
		return TwoFactor{}, false
	}
	s.settle(h)
	return h.tf, true
}

// AddTopic adds or replaces an SMN topic.
func (s *Sim) AddTopic(t Topic) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t.Subscriptions = slices.Clone(t.Subscriptions)
	for i, old := range s.topics {
		if old.URN == t.URN {
			s.topics[i] = &t
			return
		}
	}
	s.topics = append(s.topics, &t)
}

// Calls is how many accepted SetTwoFactorLoginConfig calls named the host.
func (s *Sim) Calls(hostID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h, ok := s.hosts[hostID]; ok {
		return h.calls
	}
	return 0
}

// SetCalls is how many SetTwoFactorLoginConfig requests arrived, whatever
// their outcome.
func (s *Sim) SetCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.setCalls
}

// Requests is how many signed requests of operation op arrived.
func (s *Sim) Requests(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[op]
}

// InjectFault adds a fault; see [Fault].
func (s *Sim) InjectFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Times <= 0 {
		f.Times = 1
	}
	s.faults = append(s.faults, &f)
}

// settle applies a pending 2FA change that is due. s.mu is held.
func (s *Sim) settle(h *hostState) {
	if h.pending != nil && !s.cfg.Now().Before(h.due) {
		h.tf, h.pending = *h.pending, nil
	}
}

// apiError is an error answer of the API.
type apiError struct {
	Status int
	Code   string
	Msg    string
}

func (s *Sim) serve(w http.ResponseWriter, r *http.Request) {
	rid := newRequestID()
	w.Header().Set("X-Request-Id", rid)
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeError(w, rid, apiError{400, "APIGW.0201", "Request body could not be read"})
		return
	}
	if e := s.authenticate(r, body); e != nil {
		writeError(w, rid, *e)
		return
	}
	op, params, e := s.route(r)
	if e != nil {
		writeError(w, rid, *e)
		return
	}
	s.mu.Lock()
	s.requests[op]++
	if op == OpSetTwoFactorLoginConfig {
		s.setCalls++
	}
	s.mu.Unlock()

	var out any
	switch op {
	case OpListHostStatus:
		out, e = s.listHosts(r)
	case OpListTwoFactorLoginHost:
		out, e = s.listTwoFactor(r)
	case OpSetTwoFactorLoginConfig:
		out, e = s.setTwoFactor(body)
	case OpListTopics:
		out, e = s.listTopics(r, rid)
	case OpListSubscriptionsByTopic:
		out, e = s.listSubscriptions(r, rid, params)
	}
	if e != nil {
		writeError(w, rid, *e)
		return
	}
	_ = json.NewEncoder(w).Encode(out)
}

func writeError(w http.ResponseWriter, rid string, e apiError) {
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error_code": e.Code, "error_msg": e.Msg, "request_id": rid})
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// authenticate checks the request's signature the way the API gateway does.
func (s *Sim) authenticate(r *http.Request, body []byte) *apiError {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return &apiError{401, "APIGW.0301", "Incorrect IAM authentication information: Authorization header is missing"}
	}
	a, err := parseAuthorization(auth)
	if err != nil {
		return &apiError{401, "APIGW.0301", "Incorrect IAM authentication information: " + err.Error()}
	}
	if a.AccessKey != s.cfg.AK {
		return &apiError{401, "APIGW.0301", "Incorrect IAM authentication information: the access key does not exist"}
	}
	if !slices.Contains(a.SignedHeaders, "x-sdk-date") {
		return &apiError{401, "APIGW.0301", "Incorrect IAM authentication information: x-sdk-date is not signed"}
	}
	date := r.Header.Get(dateHeader)
	t, err := time.Parse(dateFormat, date)
	if err != nil {
		return &apiError{401, "APIGW.0301", "Incorrect IAM authentication information: X-Sdk-Date is not " + dateFormat}
	}
	if skew := s.cfg.Now().Sub(t); skew > maxSkew || skew < -maxSkew {
		return &apiError{401, "APIGW.0301", "Incorrect IAM authentication information: the request time differs from the server time by more than 15 minutes"}
	}
	want, err := signature(signedRequest{
		Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
		Host: r.Host, Header: r.Header, Body: body,
	}, a.SignedHeaders, date, s.cfg.SK)
	if err != nil {
		return &apiError{401, "APIGW.0301", "Incorrect IAM authentication information: " + err.Error()}
	}
	if !hmacEqual(want, a.Signature) {
		return &apiError{401, "APIGW.0301", "Incorrect IAM authentication information: verify aksk signature fail"}
	}
	return nil
}

func hmacEqual(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	var v byte
	for i := 0; i < len(a); i++ {
		v |= a[i] ^ b[i]
	}
	return v == 0
}

// route maps a request to an operation and its path parameters.
func (s *Sim) route(r *http.Request) (string, map[string]string, *apiError) {
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	notFound := &apiError{404, "APIGW.0101", "The API does not exist or has not been published in the environment"}
	if len(segs) < 3 {
		return "", nil, notFound
	}
	if segs[1] != s.cfg.ProjectID {
		return "", nil, &apiError{403, "APIGW.0306", "Incorrect IAM authentication information: the project id does not match the credentials"}
	}
	p := strings.Join(segs[2:], "/")
	switch {
	case segs[0] == "v5" && r.Method == http.MethodGet && p == "host-management/hosts":
		return OpListHostStatus, nil, nil
	case segs[0] == "v5" && r.Method == http.MethodGet && p == "setting/two-factor-login/hosts":
		return OpListTwoFactorLoginHost, nil, nil
	case segs[0] == "v5" && r.Method == http.MethodPut && p == "setting/two-factor-login/config":
		return OpSetTwoFactorLoginConfig, nil, nil
	case segs[0] == "v2" && r.Method == http.MethodGet && p == "notifications/topics":
		return OpListTopics, nil, nil
	case segs[0] == "v2" && r.Method == http.MethodGet && len(segs) == 6 &&
		segs[2] == "notifications" && segs[3] == "topics" && segs[5] == "subscriptions":
		return OpListSubscriptionsByTopic, map[string]string{"topic_urn": segs[4]}, nil
	}
	return "", nil, notFound
}

// fault returns the first live fault for op and any of hostIDs. s.mu is held.
func (s *Sim) fault(op string, hostIDs []string) *apiError {
	for _, f := range s.faults {
		if f.Times <= 0 || f.Op != op {
			continue
		}
		if f.HostID != "" && !slices.Contains(hostIDs, f.HostID) {
			continue
		}
		f.Times--
		code, msg := f.Code, "injected fault"
		switch {
		case code == "" && f.Status == http.StatusTooManyRequests:
			code, msg = "APIGW.0308", "The throttling threshold has been reached"
		case code == "":
			code, msg = "HSS.0000", "Internal server error"
		}
		return &apiError{f.Status, code, msg}
	}
	return nil
}

// page reads limit and offset; maxLimit bounds limit.
func page(r *http.Request, defLimit, maxLimit int) (limit, offset int, e *apiError) {
	q := r.URL.Query()
	limit, offset = defLimit, 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLimit {
			return 0, 0, &apiError{400, "HSS.0001", fmt.Sprintf("invalid parameter: limit must be 1 to %d", maxLimit)}
		}
		limit = n
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, 0, &apiError{400, "HSS.0001", "invalid parameter: offset must be 0 or more"}
		}
		offset = n
	}
	return limit, offset, nil
}

// list is a list answer: its items under key, and its total under
// totalKey unless Config.OmitTotal is set.
func (s *Sim) list(key, totalKey string, total int, items any, extra map[string]any) map[string]any {
	out := map[string]any{key: items}
	if !s.cfg.OmitTotal {
		out[totalKey] = total
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// window is the page of all at offset; with Config.IgnoreOffset, the first.
func window[T any](s *Sim, all []T, limit, offset int) []T {
	if s.cfg.IgnoreOffset {
		offset = 0
	}
	if offset >= len(all) {
		return []T{}
	}
	end := min(offset+limit, len(all))
	return all[offset:end]
}

type hostJSON struct {
	HostID        string `json:"host_id"`
	HostName      string `json:"host_name"`
	PrivateIP     string `json:"private_ip"`
	PublicIP      string `json:"public_ip,omitempty"`
	OSType        string `json:"os_type"`
	AgentStatus   string `json:"agent_status"`
	ProtectStatus string `json:"protect_status"`
	HostStatus    string `json:"host_status"`
	TwoFactorAuth bool   `json:"two_factor_auth"`
}

func (s *Sim) listHosts(r *http.Request) (any, *apiError) {
	limit, offset, e := page(r, 10, 200)
	if e != nil {
		return nil, e
	}
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.fault(OpListHostStatus, nil); e != nil {
		return nil, e
	}
	var all []hostJSON
	for _, id := range s.order {
		h := s.hosts[id]
		s.settle(h)
		if v := q.Get("host_id"); v != "" && v != h.ID {
			continue
		}
		if v := q.Get("host_name"); v != "" && !strings.Contains(h.Name, v) {
			continue
		}
		if v := q.Get("private_ip"); v != "" && v != h.PrivateIP {
			continue
		}
		if v := q.Get("public_ip"); v != "" && v != h.PublicIP {
			continue
		}
		all = append(all, hostJSON{h.ID, h.Name, h.PrivateIP, h.PublicIP, h.OSType,
			h.AgentStatus, h.ProtectStatus, h.HostStatus, h.tf.Enabled})
	}
	return s.list("data_list", "total_num", len(all), window(s, all, limit, offset), nil), nil
}

type twoFactorJSON struct {
	HostID           string `json:"host_id"`
	HostName         string `json:"host_name"`
	OSType           string `json:"os_type"`
	AuthSwitch       bool   `json:"auth_switch"`
	AuthType         string `json:"auth_type,omitempty"`
	TopicURN         string `json:"topic_urn,omitempty"`
	TopicDisplayName string `json:"topic_display_name,omitempty"`
	OutsideHost      bool   `json:"outside_host"`
}

func (s *Sim) listTwoFactor(r *http.Request) (any, *apiError) {
	q := r.URL.Query()
	if q.Get("limit") == "" || q.Get("offset") == "" {
		return nil, &apiError{400, "HSS.0001", "invalid parameter: limit and offset are required"}
	}
	limit, offset, e := page(r, 10, 200)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.fault(OpListTwoFactorLoginHost, nil); e != nil {
		return nil, e
	}
	var all []twoFactorJSON
	for _, id := range s.order {
		h := s.hosts[id]
		s.settle(h)
		if h.AgentStatus == AgentNotInstalled {
			continue // the 2FA page lists protected hosts only
		}
		if v := q.Get("host_name"); v != "" && !strings.Contains(h.Name, v) {
			continue
		}
		all = append(all, twoFactorJSON{h.ID, h.Name, h.OSType, h.tf.Enabled, h.tf.AuthType,
			h.tf.TopicURN, h.tf.TopicDisplayName, false})
	}
	return s.list("data_list", "total_num", len(all), window(s, all, limit, offset), nil), nil
}

type setBody struct {
	Enabled          *bool    `json:"enabled"`
	AuthType         string   `json:"auth_type"`
	TopicDisplayName string   `json:"topic_display_name"`
	TopicURN         string   `json:"topic_urn"`
	HostIDList       []string `json:"host_id_list"`
}

func (s *Sim) setTwoFactor(raw []byte) (any, *apiError) {
	var b setBody
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, &apiError{400, "HSS.0001", "invalid parameter: body is not valid JSON"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.fault(OpSetTwoFactorLoginConfig, b.HostIDList); e != nil {
		return nil, e
	}
	switch {
	case b.Enabled == nil:
		return nil, &apiError{400, "HSS.0001", "invalid parameter: enabled is required"}
	case len(b.HostIDList) == 0:
		return nil, &apiError{400, "HSS.0001", "invalid parameter: host_id_list is empty"}
	case *b.Enabled && b.AuthType != "sms" && b.AuthType != "code":
		return nil, &apiError{400, "HSS.0001", "invalid parameter: auth_type must be sms or code"}
	case *b.Enabled && b.AuthType == "sms" && !s.hasTopic(b.TopicURN):
		return nil, &apiError{400, "HSS.0001", "invalid parameter: topic_urn does not name a topic"}
	}
	for _, id := range b.HostIDList {
		h, ok := s.hosts[id]
		switch {
		case !ok:
			return nil, &apiError{400, "HSS.0001", "invalid parameter: host " + id + " does not exist"}
		case *b.Enabled && h.AgentStatus == AgentNotInstalled:
			return nil, &apiError{400, "HSS.1001", "The server " + id + " has no agent installed"}
		case *b.Enabled && h.AgentStatus != AgentOnline:
			return nil, &apiError{400, "HSS.1007", "The agent of server " + id + " is offline"}
		}
	}
	tf := TwoFactor{Enabled: *b.Enabled}
	if tf.Enabled {
		tf.AuthType = b.AuthType
		if b.AuthType == "sms" {
			tf.TopicURN, tf.TopicDisplayName = b.TopicURN, b.TopicDisplayName
		}
	}
	due := s.cfg.Now().Add(s.cfg.ApplyDelay)
	for _, id := range b.HostIDList {
		h := s.hosts[id]
		h.calls++
		p := tf
		h.pending, h.due = &p, due
		s.settle(h)
	}
	return struct{}{}, nil
}

func (s *Sim) hasTopic(urn string) bool {
	for _, t := range s.topics {
		if t.URN == urn {
			return true
		}
	}
	return false
}

type topicJSON struct {
	TopicURN    string `json:"topic_urn"`
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
	PushPolicy  int    `json:"push_policy"`
	TopicID     string `json:"topic_id"`
}

func (s *Sim) listTopics(r *http.Request, rid string) (any, *apiError) {
	limit, offset, e := page(r, 100, 100)
	if e != nil {
		e.Code = "SMN.0002"
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.fault(OpListTopics, nil); e != nil {
		return nil, e
	}
	all := make([]topicJSON, 0, len(s.topics))
	for i, t := range s.topics {
		all = append(all, topicJSON{t.URN, t.Name, t.DisplayName, 0, fmt.Sprintf("topic-%d", i)})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].TopicURN < all[j].TopicURN })
	return s.list("topics", "topic_count", len(all), window(s, all, limit, offset), map[string]any{"request_id": rid}), nil
}

type subscriptionJSON struct {
	TopicURN        string `json:"topic_urn"`
	Protocol        string `json:"protocol"`
	SubscriptionURN string `json:"subscription_urn"`
	Owner           string `json:"owner"`
	Endpoint        string `json:"endpoint"`
	Remark          string `json:"remark"`
	Status          int    `json:"status"`
}

func (s *Sim) listSubscriptions(r *http.Request, rid string, params map[string]string) (any, *apiError) {
	limit, offset, e := page(r, 100, 100)
	if e != nil {
		e.Code = "SMN.0002"
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.fault(OpListSubscriptionsByTopic, nil); e != nil {
		return nil, e
	}
	urn := params["topic_urn"]
	var topic *Topic
	for _, t := range s.topics {
		if t.URN == urn {
			topic = t
		}
	}
	if topic == nil {
		return nil, &apiError{404, "SMN.0006", "Topic not found"}
	}
	all := make([]subscriptionJSON, 0, len(topic.Subscriptions))
	for i, sub := range topic.Subscriptions {
		all = append(all, subscriptionJSON{urn, sub.Protocol, fmt.Sprintf("%s:sub-%d", urn, i),
			s.cfg.ProjectID, sub.Endpoint, "", sub.Status})
	}
	return s.list("subscriptions", "subscription_count", len(all), window(s, all, limit, offset), map[string]any{"request_id": rid}), nil
}

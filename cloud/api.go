package cloud

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	hssmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/hss/v5/model"
	smnmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/smn/v2/model"
)

// The auth types of HSS 2FA.
const (
	AuthSMS  = "sms"  // SMS or email code through an SMN topic
	AuthCode = "code" // verification code (authenticator app)
)

// DefaultMaxPages is the default of [Options.MaxPages]: at the API's
// largest page, two million hosts.
const DefaultMaxPages = 10000

// HSSHost is a server as ListHostStatus shows it.
type HSSHost struct {
	HostID        string
	HostName      string
	PrivateIP     string
	PublicIP      string
	OSType        string
	AgentStatus   string
	ProtectStatus string
	HostStatus    string
	// TwoFactorAuth is the host's 2FA switch where the API gives it.
	TwoFactorAuth *bool
}

// TwoFactorHost is a server as ListTwoFactorLoginHost shows it.
type TwoFactorHost struct {
	HostID           string
	HostName         string
	OSType           string
	Enabled          bool
	AuthType         string
	TopicURN         string
	TopicDisplayName string
}

// TwoFactorConfig is one SetTwoFactorLoginConfig call.
type TwoFactorConfig struct {
	Enabled          bool
	AuthType         string // AuthSMS or AuthCode
	TopicURN         string // AuthSMS only
	TopicDisplayName string // AuthSMS only
	HostIDs          []string
}

// TopicInfo is what SMN says of a topic.
type TopicInfo struct {
	URN         string
	DisplayName string
	Exists      bool
	// Confirmed is true when a subscription with protocol sms or email has
	// status 1 (confirmed).
	Confirmed bool
	// Protocols are the protocols of the confirmed subscriptions, sorted.
	Protocols []string
}

func (c *Client) pageSize(max int) int32 {
	if c.opts.PageSize > 0 && c.opts.PageSize < max {
		return int32(c.opts.PageSize)
	}
	return int32(max)
}

// morePages reports whether a list goes on after a page of n items that
// brought it to offset. A total the API gave (non-zero) is trusted: the list
// goes on until offset reaches it or a page comes back empty, which also
// survives an endpoint that serves fewer items than the limit asked. Without
// a total (some endpoints leave it out, or send 0), the list ends at the
// first page shorter than the limit. [Options.MaxPages] stops the rest.
func morePages(n int, limit, offset int32, total *int32) bool {
	switch {
	case n == 0:
		return false
	case total != nil && *total > 0:
		return offset < *total
	default:
		return int32(n) >= limit
	}
}

func (c *Client) maxPages() int {
	if c.opts.MaxPages > 0 {
		return c.opts.MaxPages
	}
	return DefaultMaxPages
}

func (c *Client) eps() *string {
	if c.opts.EnterpriseProjectID == "" {
		return nil
	}
	v := c.opts.EnterpriseProjectID
	return &v
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// pageAll calls page with offsets 0, n, 2n... until the list ends (see
// morePages) and returns every item; a list longer than maxPages pages is
// an error, not an endless loop.
func pageAll[T any](c *Client, op string, limit int32, page func(offset int32) ([]T, *int32, error)) ([]T, error) {
	var out []T
	for offset, pages := int32(0), 0; pages < c.maxPages(); pages++ {
		items, total, err := page(offset)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
		offset += int32(len(items))
		if !morePages(len(items), limit, offset, total) {
			return out, nil
		}
	}
	return nil, fmt.Errorf("%s: more than %d pages", op, c.maxPages())
}

// ListHosts pages through ListHostStatus and returns every host.
func (c *Client) ListHosts(ctx context.Context) ([]HSSHost, error) {
	const op = "ListHostStatus"
	limit := c.pageSize(200)
	return pageAll(c, op, limit, func(offset int32) ([]HSSHost, *int32, error) {
		req := &hssmodel.ListHostStatusRequest{EnterpriseProjectId: c.eps(), Limit: &limit, Offset: &offset}
		var resp *hssmodel.ListHostStatusResponse
		_, err := c.call(ctx, op, func(h map[string]string) error {
			inv := c.hss.ListHostStatusInvoker(req)
			inv.AddHeaders(h)
			var err error
			resp, err = inv.Invoke()
			return err
		})
		if err != nil || resp.DataList == nil {
			return nil, nil, err
		}
		var out []HSSHost
		for _, h := range *resp.DataList {
			out = append(out, HSSHost{
				HostID: str(h.HostId), HostName: str(h.HostName), PrivateIP: str(h.PrivateIp),
				PublicIP: str(h.PublicIp), OSType: str(h.OsType), AgentStatus: str(h.AgentStatus),
				ProtectStatus: str(h.ProtectStatus), HostStatus: str(h.HostStatus), TwoFactorAuth: h.TwoFactorAuth,
			})
		}
		return out, resp.TotalNum, nil
	})
}

// ListTwoFactor pages through ListTwoFactorLoginHost and returns every host.
func (c *Client) ListTwoFactor(ctx context.Context) ([]TwoFactorHost, error) {
	const op = "ListTwoFactorLoginHost"
	limit := c.pageSize(200)
	return pageAll(c, op, limit, func(offset int32) ([]TwoFactorHost, *int32, error) {
		req := &hssmodel.ListTwoFactorLoginHostRequest{EnterpriseProjectId: c.eps(), Limit: limit, Offset: offset}
		var resp *hssmodel.ListTwoFactorLoginHostResponse
		_, err := c.call(ctx, op, func(h map[string]string) error {
			inv := c.hss.ListTwoFactorLoginHostInvoker(req)
			inv.AddHeaders(h)
			var err error
			resp, err = inv.Invoke()
			return err
		})
		if err != nil || resp.DataList == nil {
			return nil, nil, err
		}
		var out []TwoFactorHost
		for _, h := range *resp.DataList {
			out = append(out, TwoFactorHost{
				HostID: str(h.HostId), HostName: str(h.HostName), OSType: str(h.OsType),
				Enabled: h.AuthSwitch != nil && *h.AuthSwitch, AuthType: str(h.AuthType),
				TopicURN: str(h.TopicUrn), TopicDisplayName: str(h.TopicDisplayName),
			})
		}
		return out, resp.TotalNum, nil
	})
}

// SetTwoFactor makes one SetTwoFactorLoginConfig call and returns its
// request id (also on failure, where the API gave one).
func (c *Client) SetTwoFactor(ctx context.Context, cfg TwoFactorConfig) (string, error) {
	const op = "SetTwoFactorLoginConfig"
	if len(cfg.HostIDs) == 0 {
		return "", errors.New(op + ": no hosts")
	}
	body := &hssmodel.SetTwoFactorLoginConfigRequestBody{
		Enabled: cfg.Enabled, AuthType: cfg.AuthType, HostIdList: slices.Clone(cfg.HostIDs),
		TopicUrn: cfg.TopicURN, TopicDisplayName: cfg.TopicDisplayName,
	}
	req := &hssmodel.SetTwoFactorLoginConfigRequest{EnterpriseProjectId: c.eps(), Body: body}
	return c.call(ctx, op, func(h map[string]string) error {
		inv := c.hss.SetTwoFactorLoginConfigInvoker(req)
		inv.AddHeaders(h)
		_, err := inv.Invoke()
		return err
	})
}

// Topic checks an SMN topic: whether it exists, its display name, and
// whether it has a confirmed sms or email subscription. A missing topic
// (ListTopics does not list it, or 404 SMN.0006) is Exists false, not an
// error.
func (c *Client) Topic(ctx context.Context, urn string) (TopicInfo, error) {
	infos, errs := c.Topics(ctx, []string{urn})
	return infos[urn], errs[urn]
}

// Topics checks several SMN topics as [Client.Topic] checks one, with one
// listing of the account's topics for all of them and one listing of the
// subscriptions of each topic that exists. Every URN asked about has an
// entry in infos; errs holds the URNs that could not be checked.
func (c *Client) Topics(ctx context.Context, urns []string) (infos map[string]TopicInfo, errs map[string]error) {
	infos, errs = map[string]TopicInfo{}, map[string]error{}
	want := map[string]bool{}
	for _, urn := range urns {
		infos[urn] = TopicInfo{URN: urn}
		want[urn] = true
	}
	if len(want) == 0 {
		return infos, errs
	}
	limit := c.pageSize(100)
	found, ended := map[string]bool{}, false
	for offset, pages := int32(0), 0; len(found) < len(want) && !ended; pages++ {
		var err error
		if pages == c.maxPages() {
			err = fmt.Errorf("ListTopics: more than %d pages", pages)
		}
		req := &smnmodel.ListTopicsRequest{Limit: &limit, Offset: &offset}
		var resp *smnmodel.ListTopicsResponse
		if err == nil {
			_, err = c.call(ctx, "ListTopics", func(h map[string]string) error {
				inv := c.smn.ListTopicsInvoker(req)
				inv.AddHeaders(h)
				var err error
				resp, err = inv.Invoke()
				return err
			})
		}
		if err != nil {
			for urn := range want {
				errs[urn] = err
			}
			return infos, errs
		}
		var items []smnmodel.ListTopicsItem
		if resp.Topics != nil {
			items = *resp.Topics
		}
		for _, t := range items {
			if want[t.TopicUrn] && !found[t.TopicUrn] {
				found[t.TopicUrn] = true
				info := infos[t.TopicUrn]
				info.DisplayName = t.DisplayName
				if info.DisplayName == "" {
					info.DisplayName = t.Name
				}
				infos[t.TopicUrn] = info
			}
		}
		offset += int32(len(items))
		ended = !morePages(len(items), limit, offset, resp.TopicCount)
	}
	for urn := range found {
		info, err := c.subscriptions(ctx, infos[urn], limit)
		infos[urn] = info
		if err != nil {
			errs[urn] = err
		}
	}
	return infos, errs
}

// subscriptions fills info's Exists, Confirmed and Protocols from the
// topic's subscriptions.
func (c *Client) subscriptions(ctx context.Context, info TopicInfo, limit int32) (TopicInfo, error) {
	urn := info.URN
	protocols := map[string]bool{}
	for offset, pages := int32(0), 0; ; pages++ {
		if pages == c.maxPages() {
			return info, fmt.Errorf("ListSubscriptionsByTopic: more than %d pages", pages)
		}
		req := &smnmodel.ListSubscriptionsByTopicRequest{TopicUrn: urn, Limit: &limit, Offset: &offset}
		var resp *smnmodel.ListSubscriptionsByTopicResponse
		_, err := c.call(ctx, "ListSubscriptionsByTopic", func(h map[string]string) error {
			inv := c.smn.ListSubscriptionsByTopicInvoker(req)
			inv.AddHeaders(h)
			var err error
			resp, err = inv.Invoke()
			return err
		})
		var ae *APIError
		if errors.As(err, &ae) && ae.Status == http.StatusNotFound && ae.Code == "SMN.0006" {
			return TopicInfo{URN: urn}, nil
		}
		if err != nil {
			return info, err
		}
		info.Exists = true
		var items []smnmodel.ListSubscriptionsItem
		if resp.Subscriptions != nil {
			items = *resp.Subscriptions
		}
		for _, s := range items {
			if s.Status == 1 && (s.Protocol == "sms" || s.Protocol == "email") {
				info.Confirmed = true
			}
			if s.Status == 1 {
				protocols[s.Protocol] = true
			}
		}
		offset += int32(len(items))
		if !morePages(len(items), limit, offset, resp.SubscriptionCount) {
			break
		}
	}
	info.Exists = true
	for p := range protocols {
		info.Protocols = append(info.Protocols, p)
	}
	slices.Sort(info.Protocols)
	return info, nil
}

package remediate

import (
	"context"
	"errors"
	"fmt"

	"github.com/factorgate/factorgate/cloud"
	"github.com/factorgate/factorgate/contract"
)

// CloudAPI is the part of the HSS and SMN APIs that [Prepare] and [Apply]
// use; *cloud.Client implements it.
type CloudAPI interface {
	API
	Topic(ctx context.Context, urn string) (cloud.TopicInfo, error)
}

var _ CloudAPI = (*cloud.Client)(nil)

// ErrTopic is returned by [Prepare] when the SMN topic of sms mode cannot
// take 2FA codes: it does not exist, or has no confirmed sms or email
// subscription.
var ErrTopic = errors.New("SMN topic not usable")

// Prepare makes the plan an apply would carry out, with what the cloud
// shows now. With api (cloud credentials), the plan goes by the HSS 2FA
// host list as it stands ([Options.Live]): a decision may be stale, or from
// a scan that could not see 2FA. When forApply is set and the plan enables
// 2FA in sms mode, the SMN topic is checked (it must exist and have a
// confirmed sms or email subscription) and its display name kept in the
// plan. api may be nil: the plan then goes by the decisions alone.
func Prepare(ctx context.Context, api CloudAPI, ds []contract.Decision, opts Options, forApply bool) (*Plan, error) {
	if api != nil {
		list, err := api.ListTwoFactor(ctx)
		if err != nil {
			return nil, fmt.Errorf("read the HSS 2FA host list: %w", err)
		}
		opts.Live = LiveState(list)
	}
	p, err := NewPlan(ds, opts)
	if err != nil {
		return nil, err
	}
	if !forApply || api == nil || len(p.Changes) == 0 || p.Action != Enable || p.AuthType != cloud.AuthSMS {
		return p, nil
	}
	info, err := api.Topic(ctx, p.TopicURN)
	switch {
	case err != nil:
		return nil, fmt.Errorf("check the SMN topic %s: %w", p.TopicURN, err)
	case !info.Exists:
		return nil, fmt.Errorf("%w: --topic-urn %s: no such SMN topic", ErrTopic, p.TopicURN)
	case !info.Confirmed:
		return nil, fmt.Errorf("%w: --topic-urn %s: the topic has no confirmed sms or email subscription", ErrTopic, p.TopicURN)
	}
	p.TopicDisplayName = info.DisplayName
	return p, nil
}

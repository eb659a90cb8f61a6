// Package scanner collects the [contract.Facts] of every server of a fleet.
//
// # Entry points
//
// Load a fleet file with [inventory.Load], pick hosts with
// [inventory.Inventory.Select], then call [Scan], which logs in to each host
// over its transport (scanner/ssh, scanner/winrm), runs one fixed read-only
// probe (scanner/probe), parses its output and streams each host's Facts to
// a callback as it finishes.
//
// This package is the engine only: concurrency, deadlines, emitting Facts,
// progress. Transports are registered in [transports].
//
// # Security
//
// Host keys are checked against known_hosts; a changed key refuses the host
// (ssh.HostKeyError) and an unknown one does too unless Options.AcceptNew is
// set. Passwords come from an environment variable or a file, never from
// the inventory, and never appear in errors, logs or facts. Commands run on
// hosts are fixed strings: nothing from the inventory reaches a shell.
//
// # Failure
//
// A host that cannot be reached or probed is a value, not an error: its
// Facts say reachable: false, carry the reason, and leave every other
// section null. Every network step is bounded by [Options.Timeouts].
package scanner

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/scanner/inventory"
	"github.com/factorgate/factorgate/scanner/probe"
	"github.com/factorgate/factorgate/scanner/ssh"
	"github.com/factorgate/factorgate/scanner/transport"
	"github.com/factorgate/factorgate/scanner/winrm"
)

// transports are the ways a host can be reached, by the inventory's
// transport name. A new transport is a package implementing
// [transport.Dialer] and one line here.
var transports = map[string]transport.Factory{
	inventory.TransportSSH:   ssh.New,
	inventory.TransportWinRM: winrm.New,
}

// runtime is what the hosts of one scan share: the options with defaults
// filled and one dialer per transport.
type runtime struct {
	opts    Options
	dialers map[string]transport.Dialer
	// probeSlots bounds the hosts being worked on at once
	// (Options.Concurrency): from the moment a host answers (transport.Admit)
	// through key exchange, login and the probe. Dialling and waiting for
	// the first answer are bounded only by Options.DialConcurrency, so that
	// hosts that accept TCP and never answer cost the fleet one handshake
	// timeout in all, not one per slot, and hold no more than a socket.
	probeSlots chan struct{}
}

func newRuntime(opts Options) (*runtime, error) {
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	if opts.DialConcurrency < opts.Concurrency {
		opts.DialConcurrency = max(opts.Concurrency*DialConcurrencyFactor, opts.Concurrency)
	}
	opts.Timeouts = opts.Timeouts.WithDefaults()
	cfg := transport.Config{
		Timeouts: opts.Timeouts, MaxOutput: opts.MaxOutput, Retries: opts.Retries, RetryBackoff: opts.RetryBackoff,
		Env: opts.Env, AcceptNew: opts.AcceptNew, NoSSHConfig: opts.NoSSHConfig, SSHConfigPath: opts.SSHConfigPath,
	}.WithDefaults()
	rt := &runtime{opts: opts, dialers: map[string]transport.Dialer{}, probeSlots: make(chan struct{}, opts.Concurrency)}
	for name, factory := range transports {
		d, err := factory(cfg)
		if err != nil {
			return nil, err
		}
		rt.dialers[name] = d
	}
	return rt, nil
}

// dialer returns the dialer of h's transport.
func (rt *runtime) dialer(h inventory.Host) (transport.Dialer, error) {
	name := h.Transport
	if name == "" {
		name = inventory.TransportSSH
	}
	d, ok := rt.dialers[name]
	if !ok {
		return nil, fmt.Errorf("transport %q is not supported (%s)", h.Transport, h.Place())
	}
	return d, nil
}

// Scan scans hosts, at most opts.Concurrency at once, and calls emit with
// each host's Facts as it finishes. emit is never called concurrently. A
// host's failure is recorded in its Facts and never stops the others.
//
// Scan returns an error only when it could not start (a bad ~/.ssh/config)
// or when ctx ends; hosts cut short by ctx are not emitted, since their
// Facts would say nothing true about them.
func Scan(ctx context.Context, hosts []inventory.Host, opts Options, emit func(*contract.Facts)) error {
	rt, err := newRuntime(opts)
	if err != nil {
		return err
	}
	prog := opts.Progress
	if prog == nil {
		prog = silentProgress{}
	}
	prog.Start(len(hosts))
	defer prog.Finish()

	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(rt.opts.DialConcurrency)
	var mu sync.Mutex
	for _, h := range hosts {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			f := rt.scanHost(gctx, h)
			if ctx.Err() != nil {
				return nil
			}
			mu.Lock()
			defer mu.Unlock()
			emit(f)
			prog.Done(h.Name, f.Reachable)
			return nil
		})
	}
	g.Wait()
	return ctx.Err()
}

// hostFacts is the host section of the Facts, from the inventory.
func hostFacts(h inventory.Host, port int) contract.Host {
	labels := h.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	hh := contract.Host{Name: h.Name, Address: h.Address, Port: port, Transport: h.Transport, Labels: labels}
	if hh.Transport == "" {
		hh.Transport = inventory.TransportSSH
	}
	if h.HSSHostID != "" {
		hh.HSSHostID = contract.Ptr(h.HSSHostID)
	}
	return hh
}

// scanHost scans one host within Timeouts.Host and returns its Facts.
func (rt *runtime) scanHost(ctx context.Context, h inventory.Host) *contract.Facts {
	start := time.Now()
	port := h.Port
	d, derr := rt.dialer(h)
	if derr == nil {
		port = d.Port(h)
	}
	f := &contract.Facts{
		Schema:      contract.FactsSchema,
		Host:        hostFacts(h, port),
		CollectedAt: start.UTC().Truncate(time.Millisecond),
	}
	reached, err := false, derr
	var hostExpired bool
	if derr == nil {
		reached, hostExpired, err = rt.probeHost(ctx, d, h, f)
	}
	var de *transport.DeadlineError
	if err != nil && ctx.Err() == nil && hostExpired && !errors.As(err, &de) {
		err = fmt.Errorf("%w (the host's deadline of %s passed)", err, rt.opts.Timeouts.Host)
	}
	switch {
	case err != nil && !reached:
		unreachable(f, err)
	case err != nil:
		f.Reachable = true
		f.Error = contract.Ptr(transport.OneLine(err.Error()))
	default:
		f.Reachable = true
	}
	if rt.opts.Cloud != nil && ctx.Err() == nil {
		cctx, cancel := context.WithTimeout(ctx, rt.opts.Timeouts.Probe)
		if err := rt.opts.Cloud.Fill(cctx, h, f); err != nil {
			msg := "cloud: " + transport.OneLine(err.Error())
			if f.Error != nil {
				msg = *f.Error + "; " + msg
			}
			f.Error = &msg
		}
		cancel()
	}
	f.DurationMS = time.Since(start).Milliseconds()
	return f
}

// probeHost logs in, waits for a probe slot, runs the probe for the host's
// OS and parses it into f. reached is false when the host could not be
// logged in to or probed; hostExpired says the host's own deadline
// (Timeouts.Host, not counting the wait for a slot) ended it.
func (rt *runtime) probeHost(ctx context.Context, d transport.Dialer, h inventory.Host, f *contract.Facts) (reached, hostExpired bool, err error) {
	// The transport takes a probe slot once the host has answered (see
	// transport.Admit); until then the wait is bounded by the dial and
	// handshake deadlines, and the host's own deadline starts at admission.
	var admittedAt time.Time
	var release func()
	admit := func(actx context.Context) (func(), error) {
		if release != nil {
			return release, nil
		}
		select {
		case rt.probeSlots <- struct{}{}:
		case <-actx.Done():
			return nil, actx.Err()
		}
		admittedAt = time.Now()
		var once sync.Once
		release = func() { once.Do(func() { <-rt.probeSlots }) }
		return release, nil
	}
	sess, err := d.Dial(transport.WithAdmission(ctx, admit), h)
	if release != nil {
		defer release()
	}
	if err != nil {
		return false, false, err
	}
	defer sess.Close()
	if release == nil { // a transport that does not pass the gate itself
		if _, err := admit(ctx); err != nil {
			return false, false, err
		}
		defer release()
	}
	f.Host.Auth = contract.Ptr(sess.Auth())
	banner := sess.Banner()

	hctx, cancelHost := context.WithTimeout(ctx, rt.opts.Timeouts.Host-time.Since(admittedAt))
	defer func() {
		hostExpired = errors.Is(hctx.Err(), context.DeadlineExceeded)
		cancelHost()
	}()
	ctx = hctx
	pctx, cancel := context.WithTimeout(ctx, rt.opts.Timeouts.Probe)
	out, err := sess.Run(pctx, probe.For(h))
	probeExpired := errors.Is(pctx.Err(), context.DeadlineExceeded)
	cancel()
	if err != nil {
		if probeExpired && ctx.Err() == nil {
			return false, hostExpired, &transport.DeadlineError{Step: "probe", Limit: rt.opts.Timeouts.Probe}
		}
		return false, hostExpired, fmt.Errorf("probe: %w", err)
	}
	if h.Windows() {
		err = probe.ParseWindows(out.Stdout, f)
		if banner != "" {
			// OpenSSH for Windows: the banner is a fact of its own.
			probe.ParseWindowsSSHBanner(banner, f)
		}
	} else {
		err = probe.ParseLinux(out.Stdout, banner, f)
	}
	if err != nil {
		msg := err.Error()
		if !strings.HasPrefix(msg, "probe output") {
			msg = "probe output: " + msg
		}
		if out.ExitCode != 0 {
			msg += fmt.Sprintf(" (the probe exited %d", out.ExitCode)
			if s := strings.TrimSpace(string(out.Stderr)); s != "" {
				msg += ": " + transport.Truncate(transport.OneLine(s), 200)
			}
			msg += ")"
		}
		return true, hostExpired, errors.New(msg)
	}
	return true, hostExpired, nil
}

// unreachable marks f as a host that could not be scanned: every section
// but the host's own is null.
func unreachable(f *contract.Facts, err error) {
	f.Reachable = false
	f.Error = contract.Ptr(transport.OneLine(err.Error()))
	f.OS, f.OpenSSH, f.SSHD, f.SELinux, f.RDP, f.HSS, f.Topic = nil, nil, nil, nil, nil, nil, nil
	f.Accounts, f.SecurityProducts = nil, nil
}

// Package scanner collects the [contract.Facts] of every server of a fleet.
//
// # Entry points
//
// Load a fleet file with [LoadInventory], pick hosts with [Inventory.Select],
// then call [Scan], which logs in to each host (SSH with
// golang.org/x/crypto/ssh, or WinRM), runs one fixed read-only probe, parses
// its output and streams each host's Facts to a callback as it finishes.
//
// # Security
//
// Host keys are checked against known_hosts; a changed key refuses the host
// ([HostKeyError]) and an unknown one does too unless Options.AcceptNew is
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
)

// Scan scans hosts, at most opts.Concurrency at once, and calls emit with
// each host's Facts as it finishes. emit is never called concurrently. A
// host's failure is recorded in its Facts and never stops the others.
//
// Scan returns an error only when it could not start (a bad ~/.ssh/config)
// or when ctx ends; hosts cut short by ctx are not emitted, since their
// Facts would say nothing true about them.
func Scan(ctx context.Context, hosts []Host, opts Options, emit func(*contract.Facts)) error {
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
	g.SetLimit(rt.opts.Concurrency)
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
func hostFacts(h Host, port int) contract.Host {
	labels := h.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	hh := contract.Host{Name: h.Name, Address: h.Address, Port: port, Transport: h.Transport, Labels: labels}
	if hh.Transport == "" {
		hh.Transport = TransportSSH
	}
	if h.HSSHostID != "" {
		hh.HSSHostID = contract.Ptr(h.HSSHostID)
	}
	return hh
}

// scanHost scans one host within Timeouts.Host and returns its Facts.
func (rt *runtime) scanHost(ctx context.Context, h Host) *contract.Facts {
	start := time.Now()
	port := h.Port
	if h.Transport != TransportWinRM {
		port = rt.resolveSSH(h).port
	}
	f := &contract.Facts{
		Schema:      contract.FactsSchema,
		Host:        hostFacts(h, port),
		CollectedAt: start.UTC().Truncate(time.Millisecond),
	}
	hctx, cancel := context.WithTimeout(ctx, rt.opts.Timeouts.Host)
	reached, err := rt.probeHost(hctx, h, f)
	cancel()
	if err != nil && ctx.Err() == nil && errors.Is(hctx.Err(), context.DeadlineExceeded) && !strings.Contains(err.Error(), "within") {
		err = fmt.Errorf("%w (the host's deadline of %s passed)", err, rt.opts.Timeouts.Host)
	}
	switch {
	case err != nil && !reached:
		unreachable(f, err)
	case err != nil:
		f.Reachable = true
		f.Error = contract.Ptr(oneLine(err.Error()))
	default:
		f.Reachable = true
	}
	if rt.opts.Cloud != nil && ctx.Err() == nil {
		cctx, cancel := context.WithTimeout(ctx, rt.opts.Timeouts.Probe)
		if err := rt.opts.Cloud.Fill(cctx, h, f); err != nil {
			msg := "cloud: " + oneLine(err.Error())
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

// probeHost logs in, runs the probe for the host's OS and parses it into f.
// reached is false when the host could not be logged in to or probed.
func (rt *runtime) probeHost(ctx context.Context, h Host, f *contract.Facts) (reached bool, err error) {
	var sess Session
	var auth, banner string
	if h.Transport == TransportWinRM {
		sess, auth, err = dialWinRM(ctx, h, rt.opts)
	} else {
		var s *sshSession
		s, err = rt.dialSSH(ctx, h)
		if s != nil {
			sess, auth, banner = s, s.auth, s.banner
		}
	}
	if err != nil {
		return false, err
	}
	defer sess.Close()
	f.Host.Auth = contract.Ptr(auth)

	windows := h.OS == "windows" || h.Transport == TransportWinRM
	cmd := LinuxProbeFor(h)
	if windows {
		cmd = WindowsProbeCommand
	}
	pctx, cancel := context.WithTimeout(ctx, rt.opts.Timeouts.Probe)
	out, err := sess.Run(pctx, cmd)
	probeExpired := errors.Is(pctx.Err(), context.DeadlineExceeded)
	cancel()
	if err != nil {
		if probeExpired && ctx.Err() == nil {
			return false, fmt.Errorf("probe: no answer within %s", rt.opts.Timeouts.Probe)
		}
		return false, fmt.Errorf("probe: %w", err)
	}
	if windows {
		err = ParseWindowsProbe(out.Stdout, f)
		if h.Transport != TransportWinRM {
			// OpenSSH for Windows: the banner is a fact of its own.
			ParseWindowsSSHBanner(banner, f)
		}
	} else {
		err = ParseLinuxProbe(out.Stdout, banner, f)
	}
	if err != nil {
		msg := fmt.Sprintf("probe output: %v", err)
		if out.ExitCode != 0 {
			msg += fmt.Sprintf(" (the probe exited %d", out.ExitCode)
			if s := strings.TrimSpace(string(out.Stderr)); s != "" {
				msg += ": " + truncate(oneLine(s), 200)
			}
			msg += ")"
		}
		return true, errors.New(msg)
	}
	return true, nil
}

// unreachable marks f as a host that could not be scanned: every section
// but the host's own is null.
func unreachable(f *contract.Facts, err error) {
	f.Reachable = false
	f.Error = contract.Ptr(oneLine(err.Error()))
	f.OS, f.OpenSSH, f.SSHD, f.SELinux, f.RDP, f.HSS, f.Topic = nil, nil, nil, nil, nil, nil, nil
	f.Accounts, f.SecurityProducts = nil, nil
}

// oneLine folds whitespace runs, newlines included, into single spaces.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

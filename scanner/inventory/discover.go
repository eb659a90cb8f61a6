package inventory

import (
	"cmp"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"unicode"

	"gopkg.in/yaml.v3"

	"github.com/factorgate/factorgate/contract"
)

// Discover is an inventory's `discover:` block: where more hosts come from.
type Discover struct {
	// HSS makes every host the HSS host list shows (and the filters let
	// through) a host of the fleet.
	HSS *HSSDiscovery
}

// HSSDiscovery is `discover: {hss: {...}}`. Each filter, when set, lets
// through the hosts matching any of its values; a host must pass every
// filter set.
type HSSDiscovery struct {
	// Line is where the block is written, for errors.
	Line int
	// Address is the field a discovered host is reached at: "private_ip"
	// (the default) or "public_ip".
	Address string
	// OS keeps hosts of these families: "linux", "windows".
	OS []string
	// Names keeps hosts whose HSS host name matches one of these globs.
	Names []string
	// AgentStatus keeps hosts whose HSS agent status is one of these
	// ("online", "offline", "not_installed", ...).
	AgentStatus []string
}

// Addresses a discovered host can be reached at.
const (
	AddressPrivateIP = "private_ip"
	AddressPublicIP  = "public_ip"
)

// defaults are an inventory's defaults as written, kept for the hosts
// [Inventory.Resolve] adds.
type defaults struct {
	ssh              rawSSH
	winrm            rawWinRM
	windowsTransport string // TransportWinRM (or "") or TransportSSH
}

func (p *invParser) discoverBlock(k, v *yaml.Node) error {
	d := &Discover{}
	err := p.fields(v, "discover.", func(key string, k, v *yaml.Node) error {
		if key != "hss" {
			return p.unknown(k, "discover.", key, "hss")
		}
		h := &HSSDiscovery{Line: k.Line, Address: AddressPrivateIP}
		d.HSS = h
		if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
			return nil
		}
		const prefix = "discover.hss."
		return p.fields(v, prefix, func(key string, k, v *yaml.Node) error {
			var err error
			switch key {
			case "address":
				h.Address, err = p.enum(v, prefix+key, AddressPrivateIP, AddressPublicIP)
			case "os":
				h.OS, err = p.strList(v, prefix+key, "linux", "windows")
			case "name":
				h.Names, err = p.strList(v, prefix+key)
				for _, g := range h.Names {
					if _, gerr := path.Match(g, ""); gerr != nil && err == nil {
						err = p.errf(v, "%s%s: bad glob %q: %v", prefix, key, g, gerr)
					}
				}
			case "agent_status":
				h.AgentStatus, err = p.strList(v, prefix+key)
			default:
				err = p.unknown(k, prefix, key, "address", "os", "name", "agent_status")
			}
			return err
		})
	})
	if err != nil {
		return err
	}
	if d.HSS == nil {
		return p.errf(k, "discover: name a source: hss")
	}
	p.discover = d
	return nil
}

// strList reads one string or a list of strings, each one of allowed when
// allowed is given.
func (p *invParser) strList(v *yaml.Node, field string, allowed ...string) ([]string, error) {
	items := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		items = v.Content
		if len(items) == 0 {
			return nil, p.errf(v, "%s: the list is empty (leave the filter out to keep every host)", field)
		}
	}
	var out []string
	for _, it := range items {
		var s string
		var err error
		if len(allowed) > 0 {
			s, err = p.enum(resolve(it), field, allowed...)
		} else {
			var sp *string
			sp, err = p.strp(resolve(it), field)
			if sp != nil {
				s = *sp
			}
		}
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// Keep reports whether the filters of d let the HSS host h through.
func (d *HSSDiscovery) Keep(h contract.CloudHost) bool {
	if len(d.OS) > 0 && !slices.Contains(d.OS, strings.ToLower(h.OSType)) {
		return false
	}
	if len(d.AgentStatus) > 0 && !slices.Contains(d.AgentStatus, h.AgentStatus) {
		return false
	}
	if len(d.Names) > 0 && !slices.ContainsFunc(d.Names, func(g string) bool { ok, _ := path.Match(g, h.HostName); return ok }) {
		return false
	}
	return true
}

// Resolve returns the inventory with the hosts its `discover:` block finds
// in cloudHosts (the HSS host list, which the caller fetched: this package
// dials nothing). Each HSS host the filters let through joins the fleet,
// named by its HSS host name, addressed by its private IP (or public IP,
// per discover.hss.address), with its hss_host_id set; a Windows host is
// reached over WinRM unless defaults.windows_transport is ssh. The
// inventory's defaults apply to discovered hosts as to written ones.
//
// A host written under `hosts:` wins over a discovered host of the same
// name, the same address (its private or its public IP) or the same
// hss_host_id; when it sets no hss_host_id it takes the discovered host's
// (by name first, else by address when only one HSS host has it).
//
// HSS hosts that cannot join are left out with a warning in
// [Inventory.Warnings] (each one line, naming the host): no address of the chosen kind, a name the inventory
// could not hold, or a name several HSS hosts share. They then show among
// the hosts not scanned. A discovered Windows host bound for WinRM while
// defaults.winrm names no password source is an [*Error].
//
// An inventory without `discover:` is returned as is.
func (inv *Inventory) Resolve(cloudHosts []contract.CloudHost) (*Inventory, error) {
	if inv.Discover == nil || inv.Discover.HSS == nil {
		return inv, nil
	}
	d := inv.Discover.HSS
	byName := map[string]int{}
	byAddr := map[string][]int{}
	byID := map[string]bool{}
	for i, h := range inv.Hosts {
		byName[h.Name] = i
		byAddr[h.Address] = append(byAddr[h.Address], i)
		if h.HSSHostID != "" {
			byID[h.HSSHostID] = true
		}
	}
	sorted := slices.Clone(cloudHosts)
	slices.SortFunc(sorted, func(a, b contract.CloudHost) int {
		return cmp.Or(cmp.Compare(a.HostName, b.HostName), cmp.Compare(a.HostID, b.HostID))
	})
	out := *inv
	out.Hosts = slices.Clone(inv.Hosts)
	out.Warnings = slices.Clone(inv.Warnings)
	warn := func(h contract.CloudHost, format string, args ...any) {
		out.Warnings = append(out.Warnings, fmt.Sprintf("discover.hss: HSS host %q (%s) left out: ", h.HostName, h.HostID)+fmt.Sprintf(format, args...))
	}
	// Written hosts take their hss_host_id from the discovered host that
	// they stand for: by name first, then by a unique address.
	idByName := map[int]string{}
	addrIDs := map[int][]string{}
	var candidates []contract.CloudHost
	names := map[string]int{}
	for _, ch := range sorted {
		if !d.Keep(ch) {
			continue
		}
		addr := ch.PrivateIP
		if d.Address == AddressPublicIP {
			addr = ch.PublicIP
		}
		if byID[ch.HostID] {
			continue // written with its hss_host_id
		}
		if i, ok := byName[ch.HostName]; ok {
			idByName[i] = ch.HostID
			continue
		}
		// Either IP of the HSS host is its address: a written host reached
		// at the public IP stands for a host discovered at the private one.
		written := false
		for _, ip := range []string{ch.PrivateIP, ch.PublicIP} {
			for _, i := range byAddr[ip] {
				if ip != "" && !slices.Contains(addrIDs[i], ch.HostID) {
					addrIDs[i] = append(addrIDs[i], ch.HostID)
				}
				written = written || ip != ""
			}
		}
		if written {
			continue
		}
		switch {
		case addr == "":
			warn(ch, "it has no %s", strings.ReplaceAll(d.Address, "_", " "))
			continue
		case ValidAddress(addr) != nil:
			warn(ch, "its %s %q is not an address", d.Address, addr)
			continue
		case !validName(ch.HostName):
			warn(ch, "its name is empty or holds spaces, '=', ',' or control characters")
			continue
		case strings.ContainsFunc(ch.HostID, unicode.IsControl) || ch.HostID == "":
			warn(ch, "its host id is empty or holds control characters")
			continue
		}
		names[ch.HostName]++
		candidates = append(candidates, ch)
	}
	for i := range out.Hosts {
		if out.Hosts[i].HSSHostID != "" {
			continue
		}
		if id, ok := idByName[i]; ok {
			out.Hosts[i].HSSHostID = id
		} else if ids := addrIDs[i]; len(ids) == 1 {
			out.Hosts[i].HSSHostID = ids[0]
		}
	}
	p := &invParser{file: inv.Path}
	for _, ch := range candidates {
		if names[ch.HostName] > 1 {
			warn(ch, "%d HSS hosts share its name: write the one to scan under hosts:", names[ch.HostName])
			continue
		}
		h, err := p.discovered(ch, d, inv.defaults)
		if err != nil {
			return nil, err
		}
		out.Hosts = append(out.Hosts, h)
	}
	out.Discover = nil // resolved: resolving again adds nothing
	return &out, nil
}

// validName reports whether a host name can be an inventory host's.
func validName(s string) bool {
	return s != "" && !strings.ContainsAny(s, " \t=,") && !strings.ContainsFunc(s, unicode.IsControl)
}

// discovered builds the host of one HSS host as if it were written under
// `hosts:` with its name, address, transport and hss_host_id, so that
// defaults merge into it exactly as into a written host.
func (p *invParser) discovered(ch contract.CloudHost, d *HSSDiscovery, def defaults) (Host, error) {
	addr := ch.PrivateIP
	if d.Address == AddressPublicIP {
		addr = ch.PublicIP
	}
	osFamily, transport := "linux", TransportSSH
	if strings.EqualFold(ch.OSType, "windows") {
		osFamily = "windows"
		if def.windowsTransport != TransportSSH {
			transport = TransportWinRM
			if def.winrm.PasswordEnv == nil && def.winrm.PasswordFile == nil {
				return Host{}, &Error{File: p.file, Line: d.Line, Msg: fmt.Sprintf(
					"discover.hss: the Windows host %s is reached over winrm, and defaults.winrm names no password_env or password_file (set one, or defaults.windows_transport: ssh, or discover.hss.os: linux)", ch.HostName)}
			}
		}
	}
	str := func(v string) *yaml.Node {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v, Line: d.Line}
	}
	n := &yaml.Node{Kind: yaml.MappingNode, Line: d.Line, Content: []*yaml.Node{
		str("name"), str(ch.HostName),
		str("address"), str(addr),
		str("transport"), str(transport),
		str("os"), str(osFamily),
		str("hss_host_id"), str(ch.HostID),
	}}
	h, err := p.host(n, 0, def.ssh, def.winrm)
	var e *Error
	if errors.As(err, &e) {
		return Host{}, &Error{File: p.file, Line: d.Line, Msg: "discover.hss: host " + ch.HostName + ": " + strings.TrimPrefix(e.Msg, "hosts[0].")}
	}
	if err != nil {
		return Host{}, err
	}
	return h, nil
}

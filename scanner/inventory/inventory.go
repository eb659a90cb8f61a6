// Package inventory reads fleet files: the hosts to scan, their defaults,
// and where their secrets are kept. Load one with [Load], pick hosts with
// [Inventory.Select]. It dials nothing.
//
// # Sources
//
// [Load] reads factorgate's YAML inventory, or an Ansible inventory (INI or
// YAML, with its group_vars/ and host_vars/; see [ParseAnsible]), telling
// them apart by content. A factorgate inventory may also say `discover:
// {hss: {}}`: the caller fetches the HSS host list and hands it to
// [Inventory.Resolve], which adds those hosts to the fleet.
//
// # Selection
//
// [Inventory.Select] applies --limit; [Shard] (from [ParseShard]) then
// keeps one of N stable parts of the selection, for audits split across
// runners.
package inventory

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"gopkg.in/yaml.v3"

	"github.com/factorgate/factorgate/termtext"
)

// Error is returned by [Load] when the file is at fault. Its
// message is one line, "FILE:LINE: what is wrong", fit to show a user as is.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// ErrNoMatch is returned (wrapped) by [Inventory.Select] when a --limit
// pattern selects no host.
var ErrNoMatch = errors.New("matches no host")

// LoadInventory reads and validates a fleet file (see DESIGN.md, "Inventory").
//
// Decoding is strict: an unknown or misspelt field, a duplicate key or host
// name, an address that is neither an IP address nor a DNS name, and a
// password written into the file are errors of type [*Error] that
// name the file and line. Defaults (the `defaults.ssh` and `defaults.winrm`
// blocks) are merged into every host; a host's own `ssh:` / `winrm:` block
// and `port` win over them.
//
// Relative file paths (identity_file, known_hosts, password_file, ca_file)
// are taken from the inventory's folder, so the file means the same from
// any working directory; ~ is expanded when the scan reads them.
//
// An SSH host whose port or user is set nowhere in the inventory keeps Port 0
// or User "": the scanner then takes them from ~/.ssh/config, else 22 and the
// current user. Values written in the inventory win over ~/.ssh/config, as
// OpenSSH's command-line options win over its config file.
//
// Load also opens every file the inventory names for a login
// (identity_file, password_file, ca_file): one that does not exist or
// cannot be read is an [*Error] naming the line of the field, so a typo
// stops the run before any host is dialled instead of failing each host.
// Files that ~/.ssh/config names stay optional, as OpenSSH has them.
//
// The file may also be an Ansible inventory, INI or YAML (see
// [ParseAnsible]); Load tells them apart by their content.
func Load(file string) (*Inventory, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}
	return parse(file, data, true)
}

// Parse is [Load] on bytes already read, without opening the files the
// inventory names; file names the bytes in errors (and, for an Ansible
// inventory, is where group_vars/ and host_vars/ are looked for).
func Parse(file string, data []byte) (*Inventory, error) {
	return parse(file, data, false)
}

func parse(file string, data []byte, checkFiles bool) (*Inventory, error) {
	d := decode(data)
	if isAnsible(file, data, d) {
		return parseAnsible(file, data, d, checkFiles)
	}
	sum := sha256.Sum256(data)
	p := &invParser{file: file, checkFiles: checkFiles, decoded: d}
	hosts, err := p.parse(data)
	if err != nil {
		return nil, err
	}
	return &Inventory{Path: file, Digest: hex.EncodeToString(sum[:]), Hosts: hosts, Discover: p.discover, defaults: p.defaults}, nil
}

// Select returns the hosts matched by any of the limit patterns, in
// inventory order; no pattern selects every host. A pattern is either a glob
// on the host name ("web-*") or KEY=GLOB on a label ("env=prod", "env=pr*").
// "group=GLOB" also matches the groups of an Ansible inventory, which a host
// carries as labels "group.NAME: true" (see [GroupLabel]).
// A pattern that selects no host is an error wrapping [ErrNoMatch], so a
// typo does not silently scan nothing.
func (inv *Inventory) Select(limit []string) ([]Host, error) {
	if len(limit) == 0 {
		return append([]Host(nil), inv.Hosts...), nil
	}
	chosen := make([]bool, len(inv.Hosts))
	for _, pat := range limit {
		pat = strings.TrimSpace(pat)
		if pat == "" {
			return nil, errors.New("limit: empty pattern")
		}
		key, glob, isLabel := strings.Cut(pat, "=")
		if !isLabel {
			glob = pat
		}
		if _, err := path.Match(glob, ""); err != nil {
			return nil, fmt.Errorf("limit %q: bad glob: %w", pat, err)
		}
		n := 0
		for i, h := range inv.Hosts {
			if matchHost(h, key, glob, isLabel) {
				chosen[i] = true
				n++
			}
		}
		if n == 0 {
			return nil, fmt.Errorf("limit %q %w in %s", pat, ErrNoMatch, inv.Path)
		}
	}
	var out []Host
	for i, h := range inv.Hosts {
		if chosen[i] {
			out = append(out, h)
		}
	}
	return out, nil
}

// rawSSH is an ssh block as written; nil fields were not set.
type rawSSH struct {
	User, IdentityFile, KnownHosts, PasswordEnv, PasswordFile, ProxyJump *string
	Port                                                                 *int
	Agent, Sudo                                                          *bool
}

// rawWinRM is a winrm block as written; nil fields were not set.
type rawWinRM struct {
	User, CAFile, Auth, PasswordEnv, PasswordFile *string
	Port                                          *int
	HTTPS, Insecure, AllowBasicOverHTTP           *bool
}

type invParser struct {
	file       string
	checkFiles bool
	decoded    *decodedYAML
	discover   *Discover
	defaults   defaults
}

func (p *invParser) errf(n *yaml.Node, format string, args ...any) error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return &Error{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func (p *invParser) parse(data []byte) ([]Host, error) {
	doc, derr := p.decoded.get(data)
	if err := derr; err != nil {
		msg := strings.ReplaceAll(err.Error(), "\n", " ")
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			line, _ := strconv.Atoi(m[1])
			return nil, &Error{File: p.file, Line: line, Msg: m[2]}
		}
		return nil, &Error{File: p.file, Msg: strings.TrimPrefix(msg, "yaml: ")}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, &Error{File: p.file, Line: 1, Msg: "empty inventory: want a `hosts:` list"}
	}
	root := resolve(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		return nil, p.errf(root, "want a mapping with `defaults:` and `hosts:`, got %s", kindName(root))
	}
	var defSSH rawSSH
	var defWinRM rawWinRM
	var hostsNode *yaml.Node
	err := p.fields(root, "", func(key string, k, v *yaml.Node) error {
		switch key {
		case "defaults":
			return p.fields(v, "defaults.", func(key string, k, v *yaml.Node) error {
				switch key {
				case "ssh":
					return p.sshBlock(v, "defaults.ssh.", &defSSH)
				case "winrm":
					return p.winrmBlock(v, "defaults.winrm.", &defWinRM)
				case "windows_transport":
					var err error
					p.defaults.windowsTransport, err = p.enum(v, "defaults."+key, TransportWinRM, TransportSSH)
					return err
				}
				return p.unknown(k, "defaults.", key, "ssh", "winrm", "windows_transport")
			})
		case "hosts":
			hostsNode = v
			return nil
		case "discover":
			return p.discoverBlock(k, v)
		}
		return p.unknown(k, "", key, "defaults", "hosts", "discover")
	})
	if err != nil {
		return nil, err
	}
	p.defaults.ssh, p.defaults.winrm = defSSH, defWinRM
	if hostsNode == nil && p.discover != nil {
		return nil, nil // every host comes from discovery
	}
	if hostsNode == nil {
		return nil, p.errf(root, "no `hosts:` list (or `discover:` block)")
	}
	if hostsNode.Kind != yaml.SequenceNode {
		if hostsNode.Tag == "!!null" && p.discover != nil {
			return nil, nil
		}
		return nil, p.errf(hostsNode, "hosts: want a list, got %s", kindName(hostsNode))
	}
	if len(hostsNode.Content) == 0 && p.discover == nil {
		return nil, p.errf(hostsNode, "hosts: the list is empty")
	}
	seen := map[string]int{}
	var hosts []Host
	for i, hn := range hostsNode.Content {
		h, err := p.host(resolve(hn), i, defSSH, defWinRM)
		if err != nil {
			return nil, err
		}
		if prev, dup := seen[h.Name]; dup {
			return nil, p.errf(hn, "hosts[%d]: duplicate host name %q (first at line %d)", i, h.Name, prev)
		}
		seen[h.Name] = h.Line
		hosts = append(hosts, h)
	}
	return hosts, nil
}

func (p *invParser) host(n *yaml.Node, i int, defSSH rawSSH, defWinRM rawWinRM) (Host, error) {
	prefix := fmt.Sprintf("hosts[%d].", i)
	h := Host{Line: n.Line}
	var port *int
	var ssh rawSSH
	var win rawWinRM
	var addrNode *yaml.Node
	if n.Kind != yaml.MappingNode {
		return h, p.errf(n, "hosts[%d]: want a mapping with name and address, got %s", i, kindName(n))
	}
	err := p.fields(n, prefix, func(key string, k, v *yaml.Node) error {
		var err error
		switch key {
		case "name":
			h.Name, err = p.str(v, prefix+key)
		case "address":
			addrNode = v
			h.Address, err = p.str(v, prefix+key)
		case "port":
			port, err = p.port(v, prefix+key)
		case "transport":
			h.Transport, err = p.enum(v, prefix+key, TransportSSH, TransportWinRM)
		case "os":
			h.OS, err = p.enum(v, prefix+key, "linux", "windows")
		case "hss_host_id":
			h.HSSHostID, err = p.str(v, prefix+key)
		case "labels":
			h.Labels, err = p.labels(v, prefix+key)
		case "ssh":
			err = p.sshBlock(v, prefix+"ssh.", &ssh)
		case "winrm":
			err = p.winrmBlock(v, prefix+"winrm.", &win)
		default:
			err = p.unknown(k, prefix, key, "name", "address", "port", "transport", "os", "labels", "hss_host_id", "ssh", "winrm")
		}
		return err
	})
	if err != nil {
		return h, err
	}
	if h.Name == "" {
		return h, p.errf(n, "%sname: missing: every host needs a name", prefix)
	}
	if strings.ContainsAny(h.Name, " \t\r\n=,") {
		return h, p.errf(n, "%sname: %q: a name may not hold spaces, '=' or ','", prefix, h.Name)
	}
	if h.Address == "" {
		// The name doubles as the address, as an ~/.ssh/config alias can.
		h.Address = h.Name
		addrNode = n
	}
	if err := ValidAddress(h.Address); err != nil {
		return h, p.errf(addrNode, "%saddress: %q: %v", prefix, h.Address, err)
	}
	if h.Transport == "" {
		h.Transport = TransportSSH
	}
	if h.Transport == TransportWinRM {
		if h.OS == "linux" {
			return h, p.errf(n, "%sos: linux hosts are scanned over ssh, not winrm", prefix)
		}
		h.OS = "windows"
	}
	if h.Labels == nil {
		h.Labels = map[string]string{}
	}
	s := mergeSSH(defSSH, ssh)
	w := mergeWinRM(defWinRM, win)
	h.SSH = SSHConfig{
		User: deref(s.User), IdentityFile: deref(s.IdentityFile), KnownHosts: deref(s.KnownHosts),
		Password: Secret{Env: deref(s.PasswordEnv), File: deref(s.PasswordFile)}, ProxyJump: deref(s.ProxyJump),
		Agent: s.Agent != nil && *s.Agent, NoSudo: s.Sudo != nil && !*s.Sudo,
	}
	h.WinRM = WinRMConfig{
		User: deref(w.User), HTTPS: w.HTTPS == nil || *w.HTTPS, Insecure: w.Insecure != nil && *w.Insecure,
		CAFile: deref(w.CAFile), Auth: deref(w.Auth), Password: Secret{Env: deref(w.PasswordEnv), File: deref(w.PasswordFile)},
		AllowBasicOverHTTP: w.AllowBasicOverHTTP != nil && *w.AllowBasicOverHTTP,
	}
	base := filepath.Dir(p.file)
	for _, path := range []*string{&h.SSH.IdentityFile, &h.SSH.KnownHosts, &h.SSH.Password.File, &h.WinRM.Password.File, &h.WinRM.CAFile} {
		*path = relTo(base, *path)
	}
	if h.WinRM.Auth == "" {
		h.WinRM.Auth = "basic"
	}
	switch {
	case port != nil:
		h.Port = *port
	case h.Transport == TransportSSH && s.Port != nil:
		h.Port = *s.Port
	case h.Transport == TransportWinRM && w.Port != nil:
		h.Port = *w.Port
	case h.Transport == TransportWinRM && h.WinRM.HTTPS:
		h.Port = 5986
	case h.Transport == TransportWinRM:
		h.Port = 5985
	}
	if h.Transport == TransportWinRM && h.WinRM.Password.IsZero() {
		return h, p.errf(n, "%swinrm: no password_env or password_file for a winrm host (set it here or in defaults.winrm)", prefix)
	}
	return h, nil
}

// relTo makes a relative file path relative to the inventory's folder, so
// that a fleet file means the same from any working directory; absolute
// paths and ~ paths are kept as written.
func relTo(base, path string) string {
	if path == "" || filepath.IsAbs(path) || strings.HasPrefix(path, "~") {
		return path
	}
	return filepath.Join(base, path)
}

func mergeSSH(def, over rawSSH) rawSSH {
	pick(&def.User, over.User)
	pick(&def.IdentityFile, over.IdentityFile)
	pick(&def.KnownHosts, over.KnownHosts)
	pick(&def.ProxyJump, over.ProxyJump)
	pick(&def.Port, over.Port)
	pick(&def.Agent, over.Agent)
	pick(&def.Sudo, over.Sudo)
	if over.PasswordEnv != nil || over.PasswordFile != nil {
		// A host that names its own password source replaces the default one.
		def.PasswordEnv, def.PasswordFile = over.PasswordEnv, over.PasswordFile
	}
	return def
}

func mergeWinRM(def, over rawWinRM) rawWinRM {
	pick(&def.User, over.User)
	pick(&def.CAFile, over.CAFile)
	pick(&def.Auth, over.Auth)
	pick(&def.Port, over.Port)
	pick(&def.HTTPS, over.HTTPS)
	pick(&def.Insecure, over.Insecure)
	pick(&def.AllowBasicOverHTTP, over.AllowBasicOverHTTP)
	if over.PasswordEnv != nil || over.PasswordFile != nil {
		def.PasswordEnv, def.PasswordFile = over.PasswordEnv, over.PasswordFile
	}
	return def
}

func pick[T any](dst **T, v *T) {
	if v != nil {
		*dst = v
	}
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

const noPasswordLiteral = "a password may not be written in the inventory: use password_env (an environment variable) or password_file"

func (p *invParser) sshBlock(n *yaml.Node, prefix string, out *rawSSH) error {
	return p.fields(n, prefix, func(key string, k, v *yaml.Node) error {
		var err error
		switch key {
		case "user":
			out.User, err = p.strp(v, prefix+key)
		case "port":
			out.Port, err = p.port(v, prefix+key)
		case "identity_file":
			out.IdentityFile, err = p.strp(v, prefix+key)
			if err == nil {
				err = p.checkFile(v, prefix+key, *out.IdentityFile, false)
			}
		case "known_hosts":
			out.KnownHosts, err = p.strp(v, prefix+key)
		case "password_env":
			out.PasswordEnv, err = p.envName(v, prefix+key)
		case "password_file":
			out.PasswordFile, err = p.strp(v, prefix+key)
			if err == nil {
				err = p.checkFile(v, prefix+key, *out.PasswordFile, true)
			}
		case "proxy_jump":
			out.ProxyJump, err = p.proxyJump(v, prefix+key)
		case "agent":
			out.Agent, err = p.boolp(v, prefix+key)
		case "sudo":
			out.Sudo, err = p.boolp(v, prefix+key)
		case "password", "pass", "passwd":
			err = p.errf(k, "%s%s: %s", prefix, key, noPasswordLiteral)
		default:
			err = p.unknown(k, prefix, key, "user", "port", "identity_file", "known_hosts", "password_env", "password_file", "proxy_jump", "agent", "sudo")
		}
		if err == nil && out.PasswordEnv != nil && out.PasswordFile != nil {
			err = p.errf(k, "%s: set password_env or password_file, not both", strings.TrimSuffix(prefix, "."))
		}
		return err
	})
}

func (p *invParser) winrmBlock(n *yaml.Node, prefix string, out *rawWinRM) error {
	return p.fields(n, prefix, func(key string, k, v *yaml.Node) error {
		var err error
		switch key {
		case "user":
			out.User, err = p.strp(v, prefix+key)
		case "port":
			out.Port, err = p.port(v, prefix+key)
		case "https":
			out.HTTPS, err = p.boolp(v, prefix+key)
		case "insecure":
			out.Insecure, err = p.boolp(v, prefix+key)
		case "allow_basic_over_http":
			out.AllowBasicOverHTTP, err = p.boolp(v, prefix+key)
		case "ca_file":
			out.CAFile, err = p.strp(v, prefix+key)
			if err == nil {
				err = p.checkFile(v, prefix+key, *out.CAFile, false)
			}
		case "auth":
			var s string
			s, err = p.enum(v, prefix+key, "basic", "ntlm")
			out.Auth = &s
		case "password_env":
			out.PasswordEnv, err = p.envName(v, prefix+key)
		case "password_file":
			out.PasswordFile, err = p.strp(v, prefix+key)
			if err == nil {
				err = p.checkFile(v, prefix+key, *out.PasswordFile, true)
			}
		case "password", "pass", "passwd":
			err = p.errf(k, "%s%s: %s", prefix, key, noPasswordLiteral)
		default:
			err = p.unknown(k, prefix, key, "user", "port", "https", "insecure", "allow_basic_over_http", "ca_file", "auth", "password_env", "password_file")
		}
		if err == nil && out.PasswordEnv != nil && out.PasswordFile != nil {
			err = p.errf(k, "%s: set password_env or password_file, not both", strings.TrimSuffix(prefix, "."))
		}
		return err
	})
}

// fields walks a mapping, rejecting duplicate keys.
func (p *invParser) fields(n *yaml.Node, prefix string, each func(key string, k, v *yaml.Node) error) error {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		return p.errf(n, "%s: want a mapping, got %s", strings.TrimSuffix(prefix, "."), kindName(n))
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			return p.errf(k, "%s: keys must be plain words", strings.TrimSuffix(prefix, "."))
		}
		if seen[k.Value] {
			return p.errf(k, "%s%s: set twice", prefix, k.Value)
		}
		seen[k.Value] = true
		if err := each(k.Value, k, v); err != nil {
			return err
		}
	}
	return nil
}

func (p *invParser) unknown(k *yaml.Node, prefix, key string, known ...string) error {
	msg := fmt.Sprintf("%s%s: unknown field", prefix, key)
	if s := termtext.Nearest(key, known); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	} else {
		msg += " (known: " + strings.Join(known, ", ") + ")"
	}
	return p.errf(k, "%s", msg)
}

func (p *invParser) str(v *yaml.Node, field string) (string, error) {
	if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
		return "", p.errf(v, "%s: want a string, got %s", field, kindName(v))
	}
	if strings.ContainsAny(v.Value, "\x00\n\r") {
		return "", p.errf(v, "%s: control characters are not allowed", field)
	}
	return v.Value, nil
}

func (p *invParser) strp(v *yaml.Node, field string) (*string, error) {
	s, err := p.str(v, field)
	if err != nil {
		return nil, err
	}
	if s == "" {
		return nil, p.errf(v, "%s: empty value", field)
	}
	return &s, nil
}

func (p *invParser) enum(v *yaml.Node, field string, allowed ...string) (string, error) {
	s, err := p.str(v, field)
	if err != nil {
		return "", err
	}
	for _, a := range allowed {
		if s == a {
			return s, nil
		}
	}
	return "", p.errf(v, "%s: %q is not one of %s", field, s, strings.Join(allowed, ", "))
}

func (p *invParser) boolp(v *yaml.Node, field string) (*bool, error) {
	if v.Kind == yaml.ScalarNode && v.Tag == "!!bool" {
		var b bool
		if err := v.Decode(&b); err == nil {
			return &b, nil
		}
	}
	return nil, p.errf(v, "%s: want true or false, got %q", field, v.Value)
}

func (p *invParser) port(v *yaml.Node, field string) (*int, error) {
	if v.Kind == yaml.ScalarNode && v.Tag == "!!int" {
		n, err := strconv.Atoi(v.Value)
		if err == nil && n >= 1 && n <= 65535 {
			return &n, nil
		}
	}
	return nil, p.errf(v, "%s: want a port number 1-65535, got %q", field, v.Value)
}

// proxyJump reads a proxy_jump value: [user@]host[:port] hops separated by
// commas. It never reaches a shell, but a value beginning with '-' (in
// any hop) or holding whitespace or control characters is surely a mistake.
func (p *invParser) proxyJump(v *yaml.Node, field string) (*string, error) {
	s, err := p.strp(v, field)
	if err != nil {
		return nil, err
	}
	for _, hop := range strings.Split(*s, ",") {
		if strings.HasPrefix(hop, "-") {
			return nil, p.errf(v, "%s: a jump host may not begin with '-': write [user@]host[:port], hops separated by commas", field)
		}
		if hop == "" {
			return nil, p.errf(v, "%s: empty jump host: write [user@]host[:port], hops separated by commas", field)
		}
	}
	if strings.ContainsFunc(*s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return nil, p.errf(v, "%s: spaces and control characters are not allowed: write [user@]host[:port], hops separated by commas", field)
	}
	return s, nil
}

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (p *invParser) envName(v *yaml.Node, field string) (*string, error) {
	s, err := p.strp(v, field)
	if err != nil {
		return nil, err
	}
	if !envNameRE.MatchString(*s) {
		// The value is not repeated: it may be a password pasted by mistake.
		return nil, p.errf(v, "%s: not an environment variable name (letters, digits and _): name the variable that holds the password, never the password itself", field)
	}
	return s, nil
}

func (p *invParser) labels(v *yaml.Node, field string) (map[string]string, error) {
	if v.Tag == "!!null" {
		return nil, nil
	}
	out := map[string]string{}
	err := p.fields(v, field+".", func(key string, k, val *yaml.Node) error {
		if key == "" || strings.ContainsAny(key, "=, \t*?[") {
			return p.errf(k, "%s: label key %q may not be empty or hold '=', ',', spaces or glob characters", field, key)
		}
		s, err := p.str(val, field+"."+key)
		if err != nil {
			return err
		}
		out[key] = s
		return nil
	})
	return out, err
}

// ValidAddress accepts an IP address or a DNS name (which may also be an
// ~/.ssh/config alias).
func ValidAddress(a string) error {
	if net.ParseIP(a) != nil {
		return nil
	}
	if len(a) > 253 {
		return errors.New("not an IP address or DNS name: longer than 253 characters")
	}
	name := strings.TrimSuffix(a, ".")
	allDigits := true
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 {
			return errors.New("not an IP address or DNS name: empty or over-long label")
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return errors.New("not an IP address or DNS name: a label starts or ends with '-'")
		}
		for _, c := range label {
			switch {
			case c >= '0' && c <= '9':
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '-', c == '_':
				allDigits = false
			default:
				return fmt.Errorf("not an IP address or DNS name: character %q", c)
			}
		}
	}
	if allDigits {
		return errors.New("not a valid IP address")
	}
	return nil
}

func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 16; i++ {
		n = n.Alias
	}
	return n
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

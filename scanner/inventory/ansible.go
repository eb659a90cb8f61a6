package inventory

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"gopkg.in/yaml.v3"
)

// Ansible inventories are read as they are: INI or YAML (told apart by
// content), groups and children, inline host vars, [group:vars], and the
// group_vars/ and host_vars/ folders beside the file, with Ansible's
// precedence. [ParseAnsible] documents what is read.

// ParseAnsible reads an Ansible inventory, INI or YAML; [Load] and [Parse]
// call it for files that are not factorgate inventories. group_vars/ and
// host_vars/ beside file (YAML or JSON files, or folders of them) are read
// too, with Ansible's precedence: the group `all`, then each group from the
// outermost parent to the innermost child (ties by name), from the
// inventory file, then from group_vars/; then the host's own vars, from the
// file, then from host_vars/.
//
// Each host's groups (its own and their parents, but not `all`) become
// labels "group.NAME: true", so `--limit group=web` selects the hosts of
// web and of its children. The connection variables read are
// ansible_host, ansible_port, ansible_user, ansible_connection (ssh, or
// winrm for Windows), ansible_ssh_private_key_file, a ProxyJump in
// ansible_ssh_common_args or ansible_ssh_extra_args (-o ProxyJump=HOPS or
// -J HOPS), ansible_shell_type (powershell or cmd: Windows over SSH), and
// for WinRM ansible_winrm_scheme, ansible_winrm_transport (basic, plaintext
// or ntlm), ansible_winrm_server_cert_validation and
// ansible_winrm_ca_trust_path. Relative key and CA paths are taken from the
// inventory's folder.
//
// A password is never read from the inventory: a literal ansible_password,
// ansible_ssh_pass or ansible_become_password (and their aliases) is an
// [*Error] naming its file and line. A password that the inventory fetches
// with "{{ lookup('env', 'NAME') }}" or "{{ lookup('file', 'PATH') }}" is
// read from there, as factorgate's password_env and password_file are;
// factorgate_password_env and factorgate_password_file say the same
// plainly. factorgate_known_hosts and factorgate_hss_host_id set those
// fields.
//
// Hosts reached over a connection factorgate does not speak (local,
// docker, psrp, ...; WinRM by Kerberos, CredSSP or certificate) are left
// out, each with a line in [Inventory.Warnings].
func ParseAnsible(file string, data []byte) (*Inventory, error) {
	return parseAnsible(file, data, decode(data), false)
}

// isAnsible tells an Ansible inventory from a factorgate one by content: a
// YAML mapping whose keys are groups (mappings with hosts, children or vars)
// and none of factorgate's (defaults, discover, hosts) is Ansible YAML; anything else but a mapping, in a file not named .yaml,
// .yml or .json, is Ansible INI (YAML reads some INI files as a list or a
// string). An empty file is neither (factorgate says why).
func isAnsible(file string, data []byte, d *decodedYAML) bool {
	if len(bytes.TrimSpace(data)) == 0 {
		return false
	}
	if root, ok := d.mapping(); ok {
		for i := 0; i+1 < len(root.Content); i += 2 {
			k, v := resolve(root.Content[i]), resolve(root.Content[i+1])
			switch {
			case k.Value == "defaults" || k.Value == "discover" || k.Value == "hosts":
				return false
			case k.Value == "plugin" && v.Kind == yaml.ScalarNode:
				return true // an inventory plugin's configuration: parseYAML says what to do
			case v.Kind != yaml.MappingNode && v.Tag != "!!null":
				return false
			}
		}
		return true
	}
	switch strings.ToLower(filepath.Ext(file)) {
	case ".yaml", ".yml", ".json":
		return false
	}
	return true
}

// aVar is one variable as written: its value and where.
type aVar struct {
	val  *yaml.Node
	file string
	line int
}

func (v aVar) str() string {
	if v.val == nil || v.val.Kind != yaml.ScalarNode || v.val.Tag == "!!null" {
		return ""
	}
	return v.val.Value
}

type aVars map[string]aVar

type aGroup struct {
	name     string
	vars     aVars
	children []string
	parents  []string
	depth    int
	priority int
}

type aHost struct {
	name   string
	vars   aVars
	groups []string // the groups it was written under
	file   string
	line   int
}

type ansParser struct {
	file       string
	dir        string
	checkFiles bool
	sum        hash.Hash
	groups     map[string]*aGroup
	hosts      map[string]*aHost
	hostOrder  []string
	varFiles   map[string]aVars // "group_vars/NAME" → vars, loaded once
	warnings   []string
}

func parseAnsible(file string, data []byte, d *decodedYAML, checkFiles bool) (*Inventory, error) {
	p := &ansParser{file: file, dir: filepath.Dir(file), checkFiles: checkFiles, sum: sha256.New(),
		groups: map[string]*aGroup{}, hosts: map[string]*aHost{}, varFiles: map[string]aVars{}}
	p.sum.Write(data)
	p.group("all", 0)
	p.group("ungrouped", 0)
	var err error
	if root, ok := d.mapping(); ok {
		err = p.parseYAML(root)
	} else {
		err = p.parseINI(data)
	}
	if err != nil {
		return nil, err
	}
	if err := p.reconcile(); err != nil {
		return nil, err
	}
	var hosts []Host
	for _, name := range p.hostOrder {
		h, ok, err := p.resolveHost(p.hosts[name])
		if err != nil {
			return nil, err
		}
		if ok {
			hosts = append(hosts, h)
		}
	}
	if len(hosts) == 0 {
		return nil, &Error{File: file, Msg: "the Ansible inventory holds no host factorgate can scan"}
	}
	return &Inventory{Path: file, Digest: hex.EncodeToString(p.sum.Sum(nil)), Hosts: hosts, Warnings: p.warnings}, nil
}

func (p *ansParser) errAt(file string, line int, format string, args ...any) error {
	return &Error{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

func (p *ansParser) group(name string, line int) *aGroup {
	g := p.groups[name]
	if g == nil {
		g = &aGroup{name: name, vars: aVars{}, priority: 1}
		p.groups[name] = g
	}
	return g
}

func (p *ansParser) addChild(parent, child string) {
	pg, cg := p.group(parent, 0), p.group(child, 0)
	if !slices.Contains(pg.children, child) {
		pg.children = append(pg.children, child)
	}
	if !slices.Contains(cg.parents, parent) {
		cg.parents = append(cg.parents, parent)
	}
}

func (p *ansParser) addHost(name, group, file string, line int, vars aVars) {
	h := p.hosts[name]
	if h == nil {
		h = &aHost{name: name, vars: aVars{}, file: file, line: line}
		p.hosts[name] = h
		p.hostOrder = append(p.hostOrder, name)
	}
	if group != "" && !slices.Contains(h.groups, group) {
		h.groups = append(h.groups, group)
	}
	for k, v := range vars {
		h.vars[k] = v
	}
}

// setVar records one variable, refusing a password written in the file.
func (p *ansParser) setVar(vars aVars, key string, v aVar) error {
	if err := checkPasswordVar(key, v); err != nil {
		return err
	}
	vars[key] = v
	return nil
}

// The variables that hold a password: a literal one is refused.
var passwordVars = map[string]bool{
	"ansible_password": true, "ansible_ssh_pass": true, "ansible_ssh_password": true, "ansible_pass": true,
	"ansible_become_password": true, "ansible_become_pass": true, "ansible_sudo_pass": true,
	"ansible_sudo_password": true, "ansible_su_pass": true, "ansible_su_password": true,
	"ansible_winrm_password": true,
}

// loginPasswordVars are the password variables of the login itself.
var loginPasswordVars = []string{"ansible_password", "ansible_ssh_pass", "ansible_ssh_password", "ansible_pass", "ansible_winrm_password"}

func checkPasswordVar(key string, v aVar) error {
	if !passwordVars[key] {
		return nil
	}
	if v.val != nil && v.val.Tag == "!vault" {
		if slices.Contains(loginPasswordVars, key) {
			return &Error{File: v.file, Line: v.line, Msg: key + ": a vault-encrypted password cannot be read by factorgate: fetch it with \"{{ lookup('env', 'NAME') }}\" or set factorgate_password_env"}
		}
		return nil // encrypted, and not a login factorgate makes
	}
	s := v.str()
	if s == "" {
		return nil
	}
	if _, _, ok := parseLookup(s); ok {
		return nil
	}
	if strings.Contains(s, "{{") {
		if !slices.Contains(loginPasswordVars, key) {
			return nil // a template, and not a login factorgate makes
		}
		return &Error{File: v.file, Line: v.line, Msg: key + ": factorgate reads a password from \"{{ lookup('env', 'NAME') }}\" or \"{{ lookup('file', 'PATH') }}\" only, or from factorgate_password_env"}
	}
	return &Error{File: v.file, Line: v.line, Msg: key + ": " + noPasswordLiteral + " (here: factorgate_password_env, or \"{{ lookup('env', 'NAME') }}\")"}
}

// parseLookup reads "{{ lookup('env', 'NAME') }}" and "{{
// lookup('file', 'PATH') }}" (either quote, spaces free).
func parseLookup(s string) (kind, arg string, ok bool) {
	s = strings.TrimSpace(s)
	inner, ok1 := strings.CutPrefix(s, "{{")
	inner, ok2 := strings.CutSuffix(inner, "}}")
	if !ok1 || !ok2 {
		return "", "", false
	}
	inner = strings.TrimSpace(inner)
	inner, ok1 = strings.CutPrefix(inner, "lookup(")
	inner, ok2 = strings.CutSuffix(inner, ")")
	if !ok1 || !ok2 {
		return "", "", false
	}
	parts := strings.Split(inner, ",")
	if len(parts) != 2 {
		return "", "", false
	}
	unq := func(x string) (string, bool) {
		x = strings.TrimSpace(x)
		if len(x) >= 2 && (x[0] == '\'' || x[0] == '"') && x[len(x)-1] == x[0] {
			return x[1 : len(x)-1], true
		}
		return "", false
	}
	k, okK := unq(parts[0])
	a, okA := unq(parts[1])
	if !okK || !okA || a == "" || (k != "env" && k != "file") {
		return "", "", false
	}
	return k, a, true
}

// parseINI reads Ansible's INI inventory format.
func (p *ansParser) parseINI(data []byte) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	group, state := "ungrouped", "hosts"
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if line[0] == '[' {
			m := iniSection.FindStringSubmatch(line)
			if m == nil {
				return p.errAt(p.file, lineNo, "section header %q: want [group], [group:vars] or [group:children]", line)
			}
			name := m[1]
			state = "hosts"
			if g, suffix, ok := strings.Cut(name, ":"); ok {
				switch suffix {
				case "vars", "children":
					state = suffix
				default:
					return p.errAt(p.file, lineNo, "section [%s]: want [group], [group:vars] or [group:children]", name)
				}
				name = g
			}
			if name == "" || strings.ContainsFunc(name, unicode.IsSpace) {
				return p.errAt(p.file, lineNo, "section [%s]: not a group name", m[1])
			}
			group = name
			p.group(name, lineNo)
			continue
		}
		switch state {
		case "hosts":
			if err := p.iniHostLine(line, group, lineNo); err != nil {
				return err
			}
		case "children":
			m := iniChild.FindStringSubmatch(line)
			if m == nil {
				return p.errAt(p.file, lineNo, "[%s:children]: %q is not a group name", group, line)
			}
			p.addChild(group, m[1])
		case "vars":
			k, v, ok := strings.Cut(line, "=")
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			if !ok || k == "" {
				return p.errAt(p.file, lineNo, "[%s:vars]: want key=value", group)
			}
			if err := p.setVar(p.group(group, 0).vars, k, aVar{val: iniValue(v), file: p.file, line: lineNo}); err != nil {
				return err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return p.errAt(p.file, lineNo+1, "%v", err)
	}
	return nil
}

// Section headers and child group lines, as Ansible's INI plugin reads
// them: a comment may follow.
var (
	iniSection = regexp.MustCompile(`^\[([^\]]*)\]\s*(?:#.*)?$`)
	iniChild   = regexp.MustCompile(`^([^:\]\s]+)\s*(?:#.*)?$`)
)

// iniValue is an INI value as Ansible reads it: a quoted value loses its
// quotes; anything else is the text as written.
func iniValue(s string) *yaml.Node {
	if len(s) >= 2 && (s[0] == '\'' || s[0] == '"') && s[len(s)-1] == s[0] {
		if u, err := strconv.Unquote(`"` + strings.ReplaceAll(s[1:len(s)-1], `"`, `\"`) + `"`); err == nil {
			s = u
		} else {
			s = s[1 : len(s)-1]
		}
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

func (p *ansParser) iniHostLine(line, group string, lineNo int) error {
	tokens, err := shellSplit(line)
	if err != nil {
		return p.errAt(p.file, lineNo, "%v", err)
	}
	if len(tokens) == 0 {
		return nil
	}
	vars := aVars{}
	for i, t := range tokens[1:] {
		k, v, ok := strings.Cut(t, "=")
		if !ok || k == "" {
			// The word is not repeated: it may be a password pasted by mistake.
			return p.errAt(p.file, lineNo, "host %s: word %d after the host is not key=value", tokens[0], i+1)
		}
		if err := p.setVar(vars, k, aVar{val: iniValue(v), file: p.file, line: lineNo}); err != nil {
			return err
		}
	}
	return p.addHostPattern(tokens[0], group, p.file, lineNo, vars)
}

// addHostPattern adds the hosts of an Ansible host pattern: a name,
// name:port, or a name with ranges such as web[01:20].example.com.
func (p *ansParser) addHostPattern(pattern, group, file string, line int, vars aVars) error {
	name, port := splitHostPort(pattern)
	names, err := expandRange(name, 0)
	if err != nil {
		return p.errAt(file, line, "host %s: %v", pattern, err)
	}
	if port != "" {
		v := aVar{val: &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: port}, file: file, line: line}
		if _, set := vars["ansible_port"]; !set {
			vars = cloneVars(vars)
			vars["ansible_port"] = v
		}
	}
	for _, n := range names {
		p.addHost(n, group, file, line, vars)
	}
	return nil
}

func cloneVars(v aVars) aVars {
	out := make(aVars, len(v)+1)
	for k, x := range v {
		out[k] = x
	}
	return out
}

// splitHostPort splits "name:port" (and "[v6]:port"); an IPv6 address or a
// pattern whose only colons are inside ranges has no port.
func splitHostPort(s string) (string, string) {
	if strings.HasPrefix(s, "[") {
		if end := strings.Index(s, "]:"); end > 0 && !strings.Contains(s[1:end], "[") && strings.Count(s[1:end], ":") >= 2 {
			if port := s[end+2:]; isDigits(port) {
				return s[1:end], port
			}
		}
	}
	i := strings.LastIndex(s, ":")
	if i < 0 || !isDigits(s[i+1:]) {
		return s, ""
	}
	depth := 0
	for _, c := range s[:i] {
		switch c {
		case '[':
			depth++
		case ']':
			depth--
		case ':':
			if depth == 0 {
				return s, "" // an IPv6 address
			}
		}
	}
	return s[:i], s[i+1:]
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// maxRangeHosts caps what one host pattern may expand to.
const maxRangeHosts = 100000

// expandRange expands Ansible host ranges: [1:3], [01:10], [a:f], with an
// optional step [1:9:2].
func expandRange(s string, n int) ([]string, error) {
	open := strings.Index(s, "[")
	closeAt := strings.Index(s, "]")
	if open < 0 || closeAt < open || !strings.Contains(s[open:closeAt], ":") {
		return []string{s}, nil
	}
	head, spec, tail := s[:open], s[open+1:closeAt], s[closeAt+1:]
	bounds := strings.Split(spec, ":")
	if len(bounds) != 2 && len(bounds) != 3 {
		return nil, fmt.Errorf("range [%s]: want [BEGIN:END] or [BEGIN:END:STEP]", spec)
	}
	beg, end, step := bounds[0], bounds[1], 1
	if beg == "" {
		beg = "0"
	}
	if end == "" {
		return nil, fmt.Errorf("range [%s]: no end", spec)
	}
	if len(bounds) == 3 {
		var err error
		if step, err = strconv.Atoi(bounds[2]); err != nil || step < 1 {
			return nil, fmt.Errorf("range [%s]: bad step", spec)
		}
	}
	var seq []string
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	bi, ei := strings.Index(letters, beg), strings.Index(letters, end)
	if len(beg) == 1 && len(end) == 1 && bi >= 0 && ei >= 0 {
		if bi > ei {
			return nil, fmt.Errorf("range [%s]: begins after it ends", spec)
		}
		for i := bi; i <= ei; i += step {
			seq = append(seq, letters[i:i+1])
		}
	} else {
		b, err1 := strconv.Atoi(beg)
		e, err2 := strconv.Atoi(end)
		if err1 != nil || err2 != nil || b < 0 {
			return nil, fmt.Errorf("range [%s]: want numbers or single letters", spec)
		}
		if b > e {
			return nil, fmt.Errorf("range [%s]: begins after it ends", spec)
		}
		width := 0
		if beg[0] == '0' && len(beg) > 1 {
			if len(beg) != len(end) {
				return nil, fmt.Errorf("range [%s]: begin and end must have the same width", spec)
			}
			width = len(beg)
		}
		if (e-b)/step+n > maxRangeHosts {
			return nil, fmt.Errorf("range [%s]: more than %d hosts", spec, maxRangeHosts)
		}
		for i := b; i <= e; i += step {
			seq = append(seq, fmt.Sprintf("%0*d", width, i))
		}
	}
	var out []string
	for _, x := range seq {
		more, err := expandRange(head+x+tail, n+len(out))
		if err != nil {
			return nil, err
		}
		out = append(out, more...)
		if n+len(out) > maxRangeHosts {
			return nil, fmt.Errorf("range [%s]: more than %d hosts", spec, maxRangeHosts)
		}
	}
	return out, nil
}

// shellSplit splits a line as Python's shlex.split(line, comments=True)
// does, which is how Ansible reads an INI host line.
func shellSplit(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '#':
			if inWord {
				out = append(out, cur.String())
			}
			return out, nil
		case c == '\\':
			inWord = true
			if i+1 < len(s) {
				i++
				cur.WriteByte(s[i])
			}
		case c == '\'':
			inWord = true
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, errors.New("no closing quotation")
			}
			cur.WriteString(s[i+1 : i+1+end])
			i += end + 1
		case c == '"':
			inWord = true
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\\\"$`", s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, errors.New("no closing quotation")
			}
		default:
			inWord = true
			cur.WriteByte(c)
		}
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out, nil
}

// parseYAML reads Ansible's YAML inventory format: top-level groups, each
// a mapping of hosts, vars and children.
func (p *ansParser) parseYAML(root *yaml.Node) error {
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := resolve(root.Content[i]), resolve(root.Content[i+1])
		if k.Value == "plugin" && v.Kind == yaml.ScalarNode {
			return p.errAt(p.file, k.Line, "plugin: %s: an inventory plugin's configuration is run by Ansible, not read by factorgate: give factorgate its output, ansible-inventory -i %s --list --yaml > hosts.yml",
				v.Value, filepath.Base(p.file))
		}
		if err := p.yamlGroup(k, v); err != nil {
			return err
		}
	}
	return nil
}

func (p *ansParser) yamlGroup(k, v *yaml.Node) error {
	name := k.Value
	if k.Kind != yaml.ScalarNode || name == "" || strings.ContainsFunc(name, unicode.IsSpace) {
		return p.errAt(p.file, k.Line, "%q is not a group name", name)
	}
	g := p.group(name, k.Line)
	if v.Tag == "!!null" {
		return nil
	}
	if v.Kind != yaml.MappingNode {
		return p.errAt(p.file, v.Line, "group %s: want a mapping of hosts, vars and children, got %s", name, shapeOf(v))
	}
	for i := 0; i+1 < len(v.Content); i += 2 {
		sk, sv := resolve(v.Content[i]), resolve(v.Content[i+1])
		if sv.Tag == "!!null" {
			continue
		}
		if sv.Kind == yaml.ScalarNode && (sk.Value == "hosts" || sk.Value == "children") {
			// Ansible takes a single name for a one-entry mapping.
			sv = &yaml.Node{Kind: yaml.MappingNode, Line: sv.Line, Content: []*yaml.Node{sv, {Kind: yaml.ScalarNode, Tag: "!!null"}}}
		}
		if sv.Kind != yaml.MappingNode {
			return p.errAt(p.file, sv.Line, "group %s: %s: want a mapping, got %s", name, sk.Value, shapeOf(sv))
		}
		switch sk.Value {
		case "vars":
			if err := p.yamlVars(sv, g.vars, p.file); err != nil {
				return err
			}
		case "children":
			for j := 0; j+1 < len(sv.Content); j += 2 {
				ck, cv := resolve(sv.Content[j]), resolve(sv.Content[j+1])
				if err := p.yamlGroup(ck, cv); err != nil {
					return err
				}
				p.addChild(name, ck.Value)
			}
		case "hosts":
			for j := 0; j+1 < len(sv.Content); j += 2 {
				hk, hv := resolve(sv.Content[j]), resolve(sv.Content[j+1])
				vars := aVars{}
				if hv.Tag != "!!null" {
					if hv.Kind != yaml.MappingNode {
						return p.errAt(p.file, hv.Line, "host %s: want a mapping of vars, got %s", hk.Value, shapeOf(hv))
					}
					if err := p.yamlVars(hv, vars, p.file); err != nil {
						return err
					}
				}
				if err := p.addHostPattern(hk.Value, name, p.file, hk.Line, vars); err != nil {
					return err
				}
			}
		default:
			return p.errAt(p.file, sk.Line, "group %s: %s: unknown key (want hosts, vars or children)", name, sk.Value)
		}
	}
	return nil
}

func (p *ansParser) yamlVars(n *yaml.Node, vars aVars, file string) error {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		if err := p.setVar(vars, k.Value, aVar{val: v, file: file, line: k.Line}); err != nil {
			return err
		}
	}
	return nil
}

// reconcile puts hosts of no group in ungrouped, groups of no parent under
// all, and sets each group's depth, refusing loops as Ansible does.
func (p *ansParser) reconcile() error {
	for _, name := range p.hostOrder {
		h := p.hosts[name]
		if len(h.groups) == 0 || (len(h.groups) == 1 && h.groups[0] == "all") {
			h.groups = append(h.groups, "ungrouped")
		}
	}
	names := make([]string, 0, len(p.groups))
	for name := range p.groups {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if g := p.groups[name]; name != "all" && len(g.parents) == 0 {
			p.addChild("all", name)
		}
	}
	var visit func(g *aGroup, depth int, path []string) error
	visit = func(g *aGroup, depth int, path []string) error {
		if slices.Contains(path, g.name) {
			return &Error{File: p.file, Msg: fmt.Sprintf("group %s is its own child (%s)", g.name, strings.Join(append(path, g.name), " > "))}
		}
		if depth < g.depth && depth > 0 {
			return nil
		}
		g.depth = depth
		for _, c := range g.children {
			if err := visit(p.groups[c], depth+1, append(path, g.name)); err != nil {
				return err
			}
		}
		return nil
	}
	for _, name := range names {
		g := p.groups[name]
		if v, ok := g.vars["ansible_group_priority"]; ok {
			if n, err := strconv.Atoi(v.str()); err == nil {
				g.priority = n
			}
		}
	}
	// A loop leaves its groups out of all's tree: look for one from each.
	state := map[string]int{} // 1: on the path, 2: done
	var loop func(name string, path []string) error
	loop = func(name string, path []string) error {
		switch state[name] {
		case 1:
			return &Error{File: p.file, Msg: fmt.Sprintf("group %s is its own child (%s)", name, strings.Join(append(path, name), " > "))}
		case 2:
			return nil
		}
		state[name] = 1
		for _, c := range p.groups[name].children {
			if err := loop(c, append(path, name)); err != nil {
				return err
			}
		}
		state[name] = 2
		return nil
	}
	for _, name := range names {
		if err := loop(name, nil); err != nil {
			return err
		}
	}
	return visit(p.groups["all"], 0, nil)
}

// hostGroups returns every group h belongs to (its own and their
// ancestors), all included, sorted as Ansible merges their vars.
func (p *ansParser) hostGroups(h *aHost) []*aGroup {
	seen := map[string]bool{}
	var out []*aGroup
	var add func(name string)
	add = func(name string) {
		if seen[name] {
			return
		}
		seen[name] = true
		g := p.groups[name]
		out = append(out, g)
		for _, par := range g.parents {
			add(par)
		}
	}
	for _, g := range h.groups {
		add(g)
	}
	add("all")
	slices.SortFunc(out, func(a, b *aGroup) int {
		return cmp.Or(cmp.Compare(a.depth, b.depth), cmp.Compare(a.priority, b.priority), cmp.Compare(a.name, b.name))
	})
	return out
}

// vars merges h's variables with Ansible's precedence.
func (p *ansParser) vars(h *aHost) (aVars, []string, error) {
	groups := p.hostGroups(h)
	out := aVars{}
	merge := func(v aVars) {
		for k, x := range v {
			out[k] = x
		}
	}
	var names []string
	for _, g := range groups {
		merge(g.vars)
		if g.name != "all" {
			names = append(names, g.name)
		}
	}
	for _, g := range groups {
		v, err := p.varsFiles("group_vars", g.name)
		if err != nil {
			return nil, nil, err
		}
		merge(v)
	}
	merge(h.vars)
	v, err := p.varsFiles("host_vars", h.name)
	if err != nil {
		return nil, nil, err
	}
	merge(v)
	return out, names, nil
}

// varsFiles loads group_vars/NAME or host_vars/NAME beside the inventory:
// NAME, NAME.yml, NAME.yaml, NAME.json, or the files of the folder NAME
// (recursively, sorted), as Ansible's host_group_vars plugin finds them.
func (p *ansParser) varsFiles(kind, name string) (aVars, error) {
	key := kind + "/" + name
	if v, ok := p.varFiles[key]; ok {
		return v, nil
	}
	out := aVars{}
	p.varFiles[key] = out
	base := filepath.Join(p.dir, kind, name)
	var files []string
	if st, err := os.Stat(base); err == nil && st.IsDir() {
		err := filepath.WalkDir(base, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			n := d.Name()
			if strings.HasPrefix(n, ".") && path != base {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				return nil
			}
			switch strings.ToLower(filepath.Ext(n)) {
			case "", ".yml", ".yaml", ".json":
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, &Error{File: base, Msg: pathless(err).Error()}
		}
		slices.Sort(files)
	} else {
		for _, ext := range []string{"", ".yml", ".yaml", ".json"} {
			if st, err := os.Stat(base + ext); err == nil && st.Mode().IsRegular() {
				files = append(files, base+ext)
			}
		}
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, &Error{File: f, Msg: pathless(err).Error()}
		}
		p.sum.Write([]byte("\x00" + f + "\x00"))
		p.sum.Write(data)
		if bytes.HasPrefix(data, []byte("$ANSIBLE_VAULT")) {
			return nil, &Error{File: f, Line: 1, Msg: "a vault-encrypted file cannot be read by factorgate: keep secrets out of the variables it reads"}
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(data, &doc); err != nil {
			msg := strings.ReplaceAll(err.Error(), "\n", " ")
			if m := yamlLine.FindStringSubmatch(msg); m != nil {
				line, _ := strconv.Atoi(m[1])
				return nil, &Error{File: f, Line: line, Msg: m[2]}
			}
			return nil, &Error{File: f, Msg: strings.TrimPrefix(msg, "yaml: ")}
		}
		if len(doc.Content) == 0 || resolve(doc.Content[0]).Tag == "!!null" {
			continue
		}
		root := resolve(doc.Content[0])
		if root.Kind != yaml.MappingNode {
			return nil, &Error{File: f, Line: root.Line, Msg: "want a mapping of variables, got " + shapeOf(root)}
		}
		if err := p.yamlVars(root, out, f); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// connection kinds Ansible names that factorgate reaches over SSH.
var sshConnections = map[string]bool{"": true, "ssh": true, "smart": true, "paramiko": true, "paramiko_ssh": true,
	"ansible.builtin.ssh": true, "ansible.builtin.paramiko_ssh": true}

// hostVars are one host's merged variables, read with their places.
type hostVars aVars

// get returns the first of keys that is set (not null).
func (vars hostVars) get(keys ...string) (aVar, bool) {
	for _, k := range keys {
		if v, ok := vars[k]; ok && v.val != nil && v.val.Tag != "!!null" {
			return v, true
		}
	}
	return aVar{}, false
}

// str reads the first of keys that is set as one plain value: no list, no
// template, no control character.
func (vars hostVars) str(keys ...string) (string, aVar, error) {
	v, ok := vars.get(keys...)
	if !ok {
		return "", v, nil
	}
	key := keys[0]
	if v.val.Kind != yaml.ScalarNode {
		return "", v, bad(v, key, "want a single value, got %s", shapeOf(v.val))
	}
	s := v.val.Value
	if strings.Contains(s, "{{") || strings.Contains(s, "{%") {
		return "", v, bad(v, key, "a template is not read by factorgate: write the value itself")
	}
	if strings.ContainsFunc(s, unicode.IsControl) {
		return "", v, bad(v, key, "control characters are not allowed")
	}
	return s, v, nil
}

// bad is an error at the place of v.
func bad(v aVar, key, format string, args ...any) error {
	return &Error{File: v.file, Line: v.line, Msg: key + ": " + fmt.Sprintf(format, args...)}
}

// resolveHost turns one Ansible host and its merged variables into a
// factorgate host. ok is false when the host is left out (with a warning).
func (p *ansParser) resolveHost(ah *aHost) (Host, bool, error) {
	merged, groups, err := p.vars(ah)
	if err != nil {
		return Host{}, false, err
	}
	vars := hostVars(merged)
	h := Host{Name: ah.name, Line: ah.line, Labels: map[string]string{}}
	leftOut := func(v aVar, why string) (Host, bool, error) {
		p.warnings = append(p.warnings, fmt.Sprintf("%s:%d: host %s left out: %s", v.file, v.line, ah.name, why))
		return Host{}, false, nil
	}
	at := aVar{file: ah.file, line: ah.line}
	if !validName(ah.name) {
		return Host{}, false, bad(at, "host "+strconv.Quote(ah.name), "a name may not hold spaces, '=' or ','")
	}
	for _, g := range groups {
		h.Labels[GroupLabel+g] = "true"
	}

	conn, connVar, err := vars.str("ansible_connection")
	if err != nil {
		return Host{}, false, err
	}
	switch {
	case sshConnections[conn]:
		h.Transport = TransportSSH
		if shell, _, _ := vars.str("ansible_shell_type"); shell == "powershell" || shell == "cmd" {
			h.OS = "windows"
		}
	case conn == "winrm" || conn == "ansible.builtin.winrm":
		h.Transport, h.OS = TransportWinRM, "windows"
	default:
		return leftOut(connVar, fmt.Sprintf("ansible_connection %s is not a connection factorgate makes (ssh or winrm)", conn))
	}

	addr, addrVar, err := vars.str("ansible_host", "ansible_ssh_host")
	switch {
	case err != nil:
		return Host{}, false, err
	case addr == "":
		h.Address = h.Name
		if err := ValidAddress(h.Address); err != nil {
			return Host{}, false, bad(at, "host "+h.Name, "not an address, and no ansible_host: %v", err)
		}
	default:
		h.Address = addr
		if err := ValidAddress(addr); err != nil {
			return Host{}, false, bad(addrVar, "ansible_host", "%q: %v", addr, err)
		}
	}
	var port *int
	if s, v, err := vars.str("ansible_port", "ansible_ssh_port"); err != nil {
		return Host{}, false, err
	} else if s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 65535 {
			return Host{}, false, bad(v, "ansible_port", "want a port number 1-65535, got %q", s)
		}
		port = &n
	}
	user, _, err := vars.str("ansible_user", "ansible_ssh_user")
	if err != nil {
		return Host{}, false, err
	}
	secret, err := p.secretOf(vars)
	if err != nil {
		return Host{}, false, err
	}
	if h.HSSHostID, _, err = vars.str("factorgate_hss_host_id"); err != nil {
		return Host{}, false, err
	}

	if h.Transport == TransportSSH {
		h.SSH.User, h.SSH.Password = user, secret
		if port != nil {
			h.Port = *port
		}
		return h, true, p.sshOf(&h, vars)
	}
	h.WinRM = WinRMConfig{User: user, Password: secret}
	why, v, err := p.winrmOf(&h, vars, port)
	if err != nil {
		return Host{}, false, err
	}
	if why != "" {
		return leftOut(v, why)
	}
	if h.WinRM.Password.IsZero() {
		return Host{}, false, bad(at, "host "+h.Name,
			"a winrm host needs its password's source: ansible_password: \"{{ lookup('env', 'NAME') }}\" or factorgate_password_env: NAME")
	}
	return h, true, nil
}

// secretOf finds where the login password is kept: an env or file lookup
// in ansible_password (or an alias), or factorgate_password_env or
// factorgate_password_file, which win. Literals were refused as the vars
// were read.
func (p *ansParser) secretOf(vars hostVars) (Secret, error) {
	var secret Secret
	var at aVar
	for _, k := range loginPasswordVars {
		v, ok := vars.get(k)
		if !ok || v.val.Tag == "!vault" {
			continue
		}
		switch kind, arg, _ := parseLookup(v.str()); kind {
		case "env":
			secret, at = Secret{Env: arg}, v
		case "file":
			secret, at = Secret{File: relTo(p.dir, arg)}, v
		}
		break
	}
	if s, v, err := vars.str("factorgate_password_env"); err != nil {
		return secret, err
	} else if s != "" {
		secret, at = Secret{Env: s}, v
	}
	if s, v, err := vars.str("factorgate_password_file"); err != nil {
		return secret, err
	} else if s != "" {
		secret, at = Secret{File: relTo(p.dir, s)}, v
	}
	if secret.Env != "" && !envNameRE.MatchString(secret.Env) {
		return secret, bad(at, "password variable", "not an environment variable name (letters, digits and _): name the variable that holds the password, never the password itself")
	}
	if secret.File != "" && p.checkFiles {
		if err := checkReadable(secret.File, true); err != nil {
			return secret, bad(at, "password file", "%v", err)
		}
	}
	return secret, nil
}

// sshOf reads the SSH settings of h: the key, known_hosts, and a jump host
// in the ssh arguments (ansible_ssh_args, then ansible_ssh_common_args,
// then ansible_ssh_extra_args, as Ansible passes them; ssh keeps the first).
func (p *ansParser) sshOf(h *Host, vars hostVars) error {
	s, v, err := vars.str("ansible_ssh_private_key_file", "ansible_private_key_file")
	if err != nil {
		return err
	}
	if s != "" {
		h.SSH.IdentityFile = relTo(p.dir, s)
		if p.checkFiles {
			if err := checkReadable(h.SSH.IdentityFile, false); err != nil {
				return bad(v, "ansible_ssh_private_key_file", "%v", err)
			}
		}
	}
	if s, _, err = vars.str("factorgate_known_hosts"); err != nil {
		return err
	}
	h.SSH.KnownHosts = relTo(p.dir, s)
	for _, key := range []string{"ansible_ssh_args", "ansible_ssh_common_args", "ansible_ssh_extra_args"} {
		s, v, err := vars.str(key)
		if err != nil {
			return err
		}
		jump, err := proxyJumpOf(s)
		if err != nil {
			return bad(v, key, "%v", err)
		}
		if jump != "" && h.SSH.ProxyJump == "" {
			h.SSH.ProxyJump = jump
		}
	}
	return nil
}

// winrmOf reads the WinRM settings of h. A transport factorgate does not
// speak leaves the host out: why says so, at says where.
func (p *ansParser) winrmOf(h *Host, vars hostVars, port *int) (why string, at aVar, err error) {
	scheme, v, err := vars.str("ansible_winrm_scheme")
	if err != nil {
		return "", at, err
	}
	if scheme != "" && scheme != "http" && scheme != "https" {
		return "", at, bad(v, "ansible_winrm_scheme", "want http or https, got %q", scheme)
	}
	// Ansible's default: http on port 5985, https anywhere else.
	h.WinRM.HTTPS = scheme == "https" || (scheme == "" && (port == nil || *port != 5985))
	h.Port = 5986
	if !h.WinRM.HTTPS {
		h.Port = 5985
	}
	if port != nil {
		h.Port = *port
	}
	h.WinRM.Auth = "basic"
	if v, ok := vars.get("ansible_winrm_transport"); ok {
		var list []string
		if v.val.Kind == yaml.SequenceNode {
			for _, it := range v.val.Content {
				list = append(list, it.Value)
			}
		} else {
			s, _, err := vars.str("ansible_winrm_transport")
			if err != nil {
				return "", at, err
			}
			list = strings.Split(s, ",")
		}
		auth := ""
		for _, t := range list {
			switch strings.TrimSpace(t) {
			case "basic", "plaintext":
				auth = "basic"
			case "ntlm":
				auth = "ntlm"
			default:
				continue
			}
			break
		}
		if auth == "" {
			return fmt.Sprintf("ansible_winrm_transport %s: factorgate logs in to WinRM by basic or ntlm only", strings.Join(list, ",")), v, nil
		}
		h.WinRM.Auth = auth
	}
	switch s, v, err := vars.str("ansible_winrm_server_cert_validation"); {
	case err != nil:
		return "", at, err
	case s == "ignore":
		h.WinRM.Insecure = true
	case s != "" && s != "validate":
		return "", at, bad(v, "ansible_winrm_server_cert_validation", "want validate or ignore, got %q", s)
	}
	s, v, err := vars.str("ansible_winrm_ca_trust_path")
	if err != nil {
		return "", at, err
	}
	if s != "" {
		h.WinRM.CAFile = relTo(p.dir, s)
		if p.checkFiles {
			if err := checkReadable(h.WinRM.CAFile, false); err != nil {
				return "", at, bad(v, "ansible_winrm_ca_trust_path", "%v", err)
			}
		}
	}
	return "", at, nil
}

// proxyJumpOf finds the jump hosts in ssh arguments: -J HOPS, -JHOPS,
// -o ProxyJump=HOPS, -oProxyJump=HOPS or -o "ProxyJump HOPS", and the
// ProxyCommand that means the same, "ssh -W %h:%p [-q] [-p PORT] [-l USER]
// [USER@]HOST". As in ssh, the first value given wins. Any other
// ProxyCommand is refused: factorgate would otherwise dial the host
// directly, which is not what the inventory says.
func proxyJumpOf(args string) (string, error) {
	tokens, err := shellSplit(args)
	if err != nil {
		return "", err
	}
	jump, set := "", false
	setJump := func(v string) {
		if !set {
			jump, set = strings.TrimSpace(v), true
		}
	}
	option := func(o string) error {
		k, v, ok := strings.Cut(o, "=")
		if !ok {
			k, v, _ = strings.Cut(strings.TrimSpace(o), " ")
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "proxyjump":
			setJump(v)
		case "proxycommand":
			hop, err := proxyCommandHop(v)
			if err != nil {
				return err
			}
			setJump(hop)
		}
		return nil
	}
	for i := 0; i < len(tokens); i++ {
		t := tokens[i]
		switch {
		case t == "-J" || t == "-o":
			if i+1 >= len(tokens) {
				return "", fmt.Errorf("%s needs a value", t)
			}
			i++
			if t == "-J" {
				setJump(tokens[i])
			} else if err := option(tokens[i]); err != nil {
				return "", err
			}
		case strings.HasPrefix(t, "-J"):
			setJump(t[2:])
		case strings.HasPrefix(t, "-o"):
			if err := option(t[2:]); err != nil {
				return "", err
			}
		}
	}
	if jump == "none" {
		return "", nil
	}
	for _, hop := range strings.Split(jump, ",") {
		if jump != "" && (hop == "" || strings.HasPrefix(hop, "-") || strings.ContainsFunc(hop, unicode.IsSpace)) {
			return "", fmt.Errorf("ProxyJump %q: write [user@]host[:port], hops separated by commas", jump)
		}
	}
	return jump, nil
}

// proxyCommandHop reads the one ProxyCommand that is a ProxyJump: "ssh -W
// %h:%p [-q] [-p PORT] [-l USER] [USER@]HOST".
func proxyCommandHop(cmd string) (string, error) {
	refuse := errors.New("a ProxyCommand other than \"ssh -W %h:%p [USER@]HOST\" is not followed by factorgate: write -o ProxyJump=HOST or -J HOST")
	t, err := shellSplit(cmd)
	if err != nil || len(t) < 2 || t[0] != "ssh" {
		return "", refuse
	}
	var host, port, user string
	w := false
	for i := 1; i < len(t); i++ {
		switch {
		case t[i] == "-q":
		case t[i] == "-W" && i+1 < len(t) && t[i+1] == "%h:%p":
			w = true
			i++
		case (t[i] == "-p" || t[i] == "-l") && i+1 < len(t):
			if t[i] == "-p" {
				port = t[i+1]
			} else {
				user = t[i+1]
			}
			i++
		case !strings.HasPrefix(t[i], "-") && host == "":
			host = t[i]
		default:
			return "", refuse
		}
	}
	if !w || host == "" || (port != "" && !isDigits(port)) {
		return "", refuse
	}
	if user != "" && !strings.Contains(host, "@") {
		host = user + "@" + host
	}
	if port != "" {
		host += ":" + port
	}
	return host, nil
}

// shapeOf names what a node is without its value, which in an Ansible
// inventory may be a secret written in the wrong place.
func shapeOf(n *yaml.Node) string {
	switch {
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case n.Tag == "!!null":
		return "nothing"
	case n.Kind == yaml.ScalarNode:
		return "a single value"
	}
	return "something else"
}

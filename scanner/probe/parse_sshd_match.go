package probe

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/scanner/sshmatch"
)

// sshdPasswordKeywords are the password-login keywords a Match block may
// set that the facts report per block (contract.MatchBlock).
var sshdPasswordKeywords = map[string]bool{
	kwPasswordAuthentication: true, kwKbdInteractiveAuthentication: true,
	kwChallengeResponseAuthentication: true, kwPermitEmptyPasswords: true,
	kwAuthenticationMethods: true, kwPermitRootLogin: true,
}

// splitSSHDArgs splits the arguments of an sshd_config line as sshd does
// (argv_split): blanks separate words, double or single quotes group a
// word with blanks (and are removed), a backslash escapes a quote, a
// backslash or a blank, and a word starting with # ends the line. The
// probe's sshdArgsAwk does the same in awk.
func splitSSHDArgs(s string) []string {
	var words []string
	var w strings.Builder
	in := false
	var q byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case q == 0 && (c == ' ' || c == '\t'):
			if in {
				words = append(words, w.String())
			}
			w.Reset()
			in = false
			continue
		case q == 0 && c == '#' && !in:
			return words
		case c == '\\' && i+1 < len(s):
			if d := s[i+1]; d == '\\' || d == '"' || d == '\'' || (d == ' ' && q == 0) {
				w.WriteByte(d)
				in = true
				i++
				continue
			}
		}
		switch {
		case q == 0 && (c == '"' || c == '\''):
			q, in = c, true
		case q != 0 && c == q:
			q = 0
		default:
			w.WriteByte(c)
			in = true
		}
	}
	if in {
		words = append(words, w.String())
	}
	return words
}

// sshdMatchBlocks reads the Match blocks of the configuration that set a
// password-login keyword, in the order sshd reads them: the main file
// (mainPath, with the listener's -o options before it, which belong to no
// block), Include lines replaced by the files they match, as
// [parseSSHDConfig] resolves them. A block runs from its Match line to the
// next Match line or the end of its file, and takes in the files it
// includes up to their first Match line; within a block the first value of
// a keyword wins. Blocks of a file included inside a Match block are
// skipped: sshd never applies them (SSHCFG_NEVERMATCH) unless the outer
// block is `Match all`.
//
// It returns false when a file it needs could not be read, Includes nest
// deeper than sshd follows or read more than sshdMaxFileReads files; the
// blocks read so far are returned anyway.
func sshdMatchBlocks(mainPath, mainText string, files []sshdConfigFile, crAlias bool) ([]contract.MatchBlock, bool) {
	byPath := configFilesByPath(files)
	blocks := []contract.MatchBlock{}
	complete := true
	// cur is the open block (nil outside any), where keyword lines go.
	var walk func(file, text string, depth int, cur *contract.MatchBlock, never bool)
	reads := 0
	walk = func(file, text string, depth int, cur *contract.MatchBlock, never bool) {
		if reads++; reads > sshdMaxFileReads {
			complete = false
			return
		}
		var own *contract.MatchBlock // a block opened in this file
		for i, line := range strings.Split(text, "\n") {
			k, v := splitSSHDConfigLine(line)
			if crAlias && k == kwChallengeResponseAuthentication {
				k = kwKbdInteractiveAuthentication
			}
			switch {
			case k == "":
			case k == kwMatch:
				if own != nil && len(own.Settings) > 0 && !never {
					blocks = append(blocks, *own)
				}
				crit := strings.TrimSpace(v)
				if j := strings.Index(crit, "#"); j >= 0 {
					crit = strings.TrimSpace(crit[:j])
				}
				own = &contract.MatchBlock{Criteria: crit, File: file, Line: i + 1,
					AllConnections: matchAllConnections(crit), Settings: map[string]string{}}
				cur = own
			case k == kwInclude:
				if depth >= sshdIncludeMaxDepth {
					complete = false
					continue
				}
				for _, pat := range splitSSHDArgs(v) {
					for _, f := range byPath.include(pat) {
						if !f.ok {
							complete = false
							continue
						}
						inner := never || (cur != nil && !matchAllLineOnly(cur.Criteria))
						walk(f.path, f.text, depth+1, cur, inner)
					}
				}
			case cur != nil && sshdPasswordKeywords[k]:
				if _, seen := cur.Settings[k]; !seen {
					cur.Settings[k] = v
				}
			}
		}
		if own != nil && len(own.Settings) > 0 && !never {
			blocks = append(blocks, *own)
		}
	}
	walk(mainPath, mainText, 0, nil, false)
	return blocks, complete
}

// matchAllLineOnly reports whether criteria is `all` alone.
func matchAllLineOnly(criteria string) bool {
	all, ok := matchAllLine(criteria)
	return all && ok
}

// universalCriteria are the Match criteria whose pattern list can match
// every connection.
var universalCriteria = map[string]bool{
	"user": true, "group": true, "host": true, "address": true,
	"localaddress": true, "localport": false, "rdomain": true,
}

// matchAllConnections reports whether Match criteria apply to every
// connection: `all`, or only criteria each with a pattern list that holds
// a lone * and no negation (User *, Address *, Host *, ...).
func matchAllConnections(criteria string) bool {
	f := strings.Fields(criteria)
	if len(f) == 1 && strings.EqualFold(f[0], "all") {
		return true
	}
	if len(f) == 0 || len(f)%2 != 0 {
		return false
	}
	for i := 0; i < len(f); i += 2 {
		if !universalCriteria[strings.ToLower(f[i])] {
			return false
		}
		star := false
		for _, p := range strings.Split(f[i+1], ",") {
			if strings.HasPrefix(p, "!") {
				return false
			}
			star = star || p == "*"
		}
		if !star {
			return false
		}
	}
	return true
}

// addrMatchList is OpenSSH's addr_match_list: entries are addresses,
// CIDR blocks or patterns, each possibly negated; 1 match, -1 a negated
// match, 0 none.
func addrMatchList(addr, list string) int {
	a, aerr := netip.ParseAddr(addr)
	got := 0
	for _, e := range strings.Split(list, ",") {
		neg := strings.HasPrefix(e, "!")
		if neg {
			e = e[1:]
		}
		var m bool
		if pfx, err := netip.ParsePrefix(e); err == nil {
			m = aerr == nil && pfx.Contains(a)
		} else if ea, err := netip.ParseAddr(e); err == nil {
			m = aerr == nil && ea == a
		} else {
			m = sshmatch.Pattern(addr, e)
		}
		if m {
			if neg {
				return -1
			}
			got = 1
		}
	}
	return got
}

// matchSpecMatches reports whether the connection spec of sshd -T -C
// ("user=u,host=h,addr=a[,laddr=..][,lport=..][,rdomain=..]") matches
// Match criteria as sshd's match_cfg_line decides. Criteria it cannot
// decide from the spec alone (Group, which needs the user's groups; an
// unknown one) make it false: nothing sshd answered is then trusted.
func matchSpecMatches(criteria, spec string) bool {
	ci := map[string]string{}
	for _, kv := range strings.Split(spec, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return false
		}
		ci[k] = v
	}
	f := strings.Fields(criteria)
	if len(f) == 1 && strings.EqualFold(f[0], "all") {
		return true
	}
	if len(f) == 0 || len(f)%2 != 0 {
		return false
	}
	for i := 0; i < len(f); i += 2 {
		arg := f[i+1]
		var ok bool
		switch strings.ToLower(f[i]) {
		case "user":
			ok = ci["user"] != "" && sshmatch.PatternList(ci["user"], arg, false) == 1
		case "host":
			ok = ci["host"] != "" && sshmatch.PatternList(ci["host"], arg, true) == 1
		case "address":
			ok = ci["addr"] != "" && addrMatchList(ci["addr"], arg) == 1
		case "localaddress":
			ok = ci["laddr"] != "" && addrMatchList(ci["laddr"], arg) == 1
		case "localport":
			want, err := strconv.Atoi(arg)
			ok = err == nil && ci["lport"] == strconv.Itoa(want)
		case "rdomain":
			ok = ci["rdomain"] != "" && sshmatch.PatternList(ci["rdomain"], arg, false) == 1
		}
		if !ok {
			return false
		}
	}
	return true
}

// matchEffective fills the Effective settings of each block from the
// sshd-T-C sections of the probe ("sshd-T-C SPEC LINE FILE"): what sshd -T
// -C resolved for a connection SPEC, provided sshd ran and SPEC matches the
// block's criteria.
func matchEffective(p *probeOutput, blocks []contract.MatchBlock) {
	type at struct {
		file string
		line int
	}
	idx := map[at]int{}
	for i, b := range blocks {
		idx[at{b.File, b.Line}] = i
	}
	for _, s := range p.sections {
		rest, ok := strings.CutPrefix(s.name, "sshd-T-C ")
		if !ok || !s.done || s.rc != 0 {
			continue
		}
		spec, rest, ok1 := strings.Cut(rest, " ")
		lineText, file, ok2 := strings.Cut(rest, " ")
		line, err := strconv.Atoi(lineText)
		if !ok1 || !ok2 || err != nil {
			continue
		}
		i, ok := idx[at{file, line}]
		if !ok || blocks[i].Effective != nil || !matchSpecMatches(blocks[i].Criteria, spec) {
			continue
		}
		kv, ok := parseSSHDT(s.text)
		if !ok {
			continue
		}
		eff := map[string]string{}
		for k, v := range kv {
			if sshdPasswordKeywords[k] {
				eff[k] = v
			}
		}
		blocks[i].Effective = eff
	}
}

package ssh

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/factorgate/factorgate/scanner/sshmatch"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// HostKeyError is returned (wrapped) when a host's key is refused: it is not
// in known_hosts (Unknown), differs from the key recorded there, or was
// revoked. The scan records it as the host's error; the host is never
// trusted.
type HostKeyError struct {
	Host    string // host or [host]:port, as known_hosts names it
	File    string
	Offered ssh.PublicKey
	// Known are the keys known_hosts holds for the host; empty when Unknown.
	Known   []knownhosts.KnownKey
	Unknown bool
	// Revoked is the @revoked line that refused the key, if any.
	Revoked *knownhosts.KnownKey
	// Certificate says why a host certificate was not accepted, when the
	// host presented one; the plain key inside it was then checked.
	Certificate string
}

func (e *HostKeyError) Error() string {
	offered := e.Offered.Type() + " " + ssh.FingerprintSHA256(e.Offered)
	if e.Revoked != nil {
		return fmt.Sprintf("host key revoked: %s offered %s, revoked by %s:%d: refusing the host", e.Host, offered, e.Revoked.Filename, e.Revoked.Line)
	}
	cert := ""
	if e.Certificate != "" {
		cert = " (its host certificate was not accepted: " + e.Certificate + ")"
	}
	if e.Unknown {
		return fmt.Sprintf("host key unknown: %s offered %s%s, which is not in %s: add it (ssh-keyscan) or scan with --accept-new", e.Host, offered, cert, e.File)
	}
	var known []string
	for _, k := range e.Known {
		known = append(known, fmt.Sprintf("%s %s at %s:%d", k.Key.Type(), ssh.FingerprintSHA256(k.Key), k.Filename, k.Line))
	}
	return fmt.Sprintf("host key mismatch: %s offered %s%s but known_hosts holds %s: refusing the host (if it was reinstalled, remove the old line with ssh-keygen -R)",
		e.Host, offered, cert, strings.Join(known, ", "))
}

// hostKeyDB checks host keys against known_hosts files as OpenSSH's client
// does: plain keys, @cert-authority lines for host certificates (principal,
// validity and signature checked), @revoked lines, hashed names, wildcard
// and negated patterns, host names compared in lower case. Each file is
// read once per scan; plain names are indexed and each host's lookup is
// cached, so a large known_hosts costs its parsing once, not once per host.
// It records first-seen keys when acceptNew is set, and is safe for
// concurrent use by the goroutines of one scan.
type hostKeyDB struct {
	acceptNew bool
	// now is the clock certificates are checked against.
	now func() time.Time

	mu    sync.Mutex
	files map[string]*khFile
}

// khLine is one line of a known_hosts file.
type khLine struct {
	marker   string   // "", markerCA or markerRevoked
	patterns []string // lower-cased host patterns, possibly negated (!) or wild
	list     string   // the patterns joined by commas, as sshmatch takes them
	hashed   []byte   // HMAC-SHA1 of the name, with salt, for |1|salt|hash lines
	// inner and outer are the SHA-1 states of the HMAC keyed with the salt,
	// after its ipad and opad blocks, so that each name costs two blocks.
	inner, outer []byte
	key          ssh.PublicKey
	file         string
	line         int
}

const (
	markerCA      = "@cert-authority"
	markerRevoked = "@revoked"
)

// khMatch is what one file holds for one looked-up name.
type khMatch struct {
	keys, cas, revoked []*khLine
}

func (m *khMatch) empty() bool { return len(m.keys)+len(m.cas)+len(m.revoked) == 0 }

type khFile struct {
	once   sync.Once
	err    error
	exists bool
	exact  map[string][]*khLine // lines whose patterns are all plain names, by name
	other  []*khLine            // hashed, wild or negated lines

	mu    sync.Mutex
	cache map[string]*khMatch
	// added are the keys this scan appended, by lookup name.
	added map[string]ssh.PublicKey
}

// appendMu serialises appends to known_hosts files across every scan of the
// process.
var appendMu sync.Mutex

func newHostKeyDB(acceptNew bool) *hostKeyDB {
	return &hostKeyDB{acceptNew: acceptNew, now: time.Now, files: map[string]*khFile{}}
}

func (db *hostKeyDB) file(path string) *khFile {
	db.mu.Lock()
	f := db.files[path]
	if f == nil {
		f = &khFile{added: map[string]ssh.PublicKey{}, cache: map[string]*khMatch{}}
		db.files[path] = f
	}
	db.mu.Unlock()
	f.once.Do(func() {
		data, err := os.ReadFile(path)
		switch {
		case err == nil:
			f.exists = true
			f.exact, f.other = parseKnownHosts(data, path)
		case errors.Is(err, os.ErrNotExist) && db.acceptNew:
			// Nothing known yet: every key is first seen.
		case errors.Is(err, os.ErrNotExist):
			f.err = fmt.Errorf("known_hosts %s does not exist: create it (ssh-keyscan) or scan with --accept-new", path)
		default:
			f.err = fmt.Errorf("known_hosts: %w", err)
		}
	})
	return f
}

// parseKnownHosts reads the lines of a known_hosts file. Lines that cannot
// be read are skipped, as OpenSSH skips them.
func parseKnownHosts(data []byte, path string) (exact map[string][]*khLine, other []*khLine) {
	exact = map[string][]*khLine{}
	for n, text := range strings.Split(string(data), "\n") {
		l, ok := parseKnownHostsLine(text)
		if !ok {
			continue
		}
		l.file, l.line = path, n+1
		plain := l.hashed == nil
		for _, p := range l.patterns {
			if strings.ContainsAny(p, "*?!") {
				plain = false
			}
		}
		if !plain {
			other = append(other, l)
			continue
		}
		for _, p := range l.patterns {
			exact[p] = append(exact[p], l)
		}
	}
	return exact, other
}

func parseKnownHostsLine(s string) (*khLine, bool) {
	s = strings.TrimSpace(s)
	if s == "" || s[0] == '#' {
		return nil, false
	}
	l := &khLine{}
	if s[0] == '@' {
		m, rest, _ := cutField(s)
		if m != markerCA && m != markerRevoked {
			return nil, false
		}
		l.marker, s = m, rest
	}
	hosts, rest, ok := cutField(s)
	if !ok {
		return nil, false
	}
	key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(strings.TrimSpace(rest)))
	if err != nil {
		return nil, false
	}
	l.key = key
	if strings.HasPrefix(hosts, "|1|") {
		salt64, hash64, ok := strings.Cut(hosts[3:], "|")
		salt, err1 := base64.StdEncoding.DecodeString(salt64)
		hash, err2 := base64.StdEncoding.DecodeString(hash64)
		if !ok || err1 != nil || err2 != nil {
			return nil, false
		}
		if len(salt) != sha1.Size || len(hash) != sha1.Size {
			return nil, false
		}
		l.hashed = hash
		l.inner, l.outer = hmacStates(salt)
		return l, true
	}
	for _, p := range strings.Split(hosts, ",") {
		if p = strings.ToLower(strings.TrimSpace(p)); p != "" {
			l.patterns = append(l.patterns, p)
		}
	}
	l.list = strings.Join(l.patterns, ",")
	return l, len(l.patterns) > 0
}

// hmacStates returns the SHA-1 states of HMAC-SHA1 keyed with key after
// its inner (ipad) and outer (opad) key blocks.
func hmacStates(key []byte) (inner, outer []byte) {
	var pad [sha1.BlockSize]byte
	state := func(x byte) []byte {
		for i := range pad {
			pad[i] = x
			if i < len(key) {
				pad[i] ^= key[i]
			}
		}
		h := sha1.New()
		h.Write(pad[:])
		b, _ := h.(encoding.BinaryMarshaler).MarshalBinary()
		return b
	}
	return state(0x36), state(0x5c)
}

// hasher computes the HMACs of hashed known_hosts names from the states
// hmacStates saved; one per lookup, not safe for concurrent use.
type hasher struct {
	h   hash.Hash
	sum []byte
}

func newHasher() *hasher { return &hasher{h: sha1.New()} }

// hmac returns HMAC-SHA1(name) for the key whose states are inner, outer.
func (x *hasher) hmac(inner, outer []byte, name string) []byte {
	u := x.h.(encoding.BinaryUnmarshaler)
	u.UnmarshalBinary(inner)
	io.WriteString(x.h, name)
	x.sum = x.h.Sum(x.sum[:0])
	u.UnmarshalBinary(outer)
	x.h.Write(x.sum)
	x.sum = x.h.Sum(x.sum[:0])
	return x.sum
}

// cutField splits s at its first run of spaces and tabs, as OpenSSH splits
// the fields of a known_hosts line.
func cutField(s string) (field, rest string, ok bool) {
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return s, "", false
	}
	return s[:i], strings.TrimLeft(s[i:], " \t"), true
}

// matches reports whether name (lower case) matches the line: a hashed name
// equal to it, or a pattern list with a positive match and no negated one.
func (l *khLine) matches(x *hasher, name string) bool {
	if l.hashed != nil {
		return hmac.Equal(x.hmac(l.inner, l.outer, name), l.hashed)
	}
	return sshmatch.PatternList(name, l.list, false) == 1
}

// lookup returns what f holds for name (already normalized and lower
// case), computed once per name.
func (f *khFile) lookup(name string) *khMatch {
	f.mu.Lock()
	defer f.mu.Unlock()
	if m, ok := f.cache[name]; ok {
		return m
	}
	m := &khMatch{}
	add := func(l *khLine) {
		switch l.marker {
		case markerCA:
			m.cas = append(m.cas, l)
		case markerRevoked:
			m.revoked = append(m.revoked, l)
		default:
			m.keys = append(m.keys, l)
		}
	}
	for _, l := range f.exact[name] {
		add(l)
	}
	x := newHasher()
	for _, l := range f.other {
		if l.matches(x, name) {
			add(l)
		}
	}
	f.cache[name] = m
	return m
}

// khName is the name OpenSSH looks a host up by: "host" on port 22,
// "[host]:port" elsewhere, in lower case.
func khName(host string, port string) string {
	host = strings.ToLower(host)
	if port == "" || port == "22" {
		return host
	}
	return "[" + host + "]:" + port
}

// lookupHost returns what f holds for hostport: under "[host]:port", or,
// when nothing is recorded under that name, under the bare host name, as
// OpenSSH's client does today (Debian's ssh 9.2 accepts a key recorded for
// "host" on another port when "[host]:port" has no line; the case "plain
// key without the port" of TestHostCertificatesAsOpenSSH holds factorgate to
// the real client there). name is the name the match was found under (the
// bracketed one when neither holds anything).
func (f *khFile) lookupHost(hostport string) (m *khMatch, name, host string) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = hostport, "22"
	}
	host = strings.ToLower(strings.Trim(host, "[]"))
	name = khName(host, port)
	m = f.lookup(name)
	if m.empty() && name != host {
		if bare := f.lookup(host); !bare.empty() {
			return bare, host, host
		}
	}
	return m, name, host
}

// algorithms returns the host key algorithms to ask hostport for: the
// certificate algorithms first when a @cert-authority line covers it, then
// those of the keys known_hosts holds for it, so the server is asked for a
// key we can check; nil when nothing is known (the client's defaults then
// apply).
func (db *hostKeyDB) algorithms(path, hostport string) []string {
	f := db.file(path)
	if f.err != nil {
		return nil
	}
	m, name, _ := f.lookupHost(hostport)
	var algs []string
	seen := map[string]bool{}
	addAll := func(as ...string) {
		for _, a := range as {
			if !seen[a] {
				seen[a] = true
				algs = append(algs, a)
			}
		}
	}
	if len(m.cas) > 0 {
		addAll(ssh.CertAlgoED25519v01, ssh.CertAlgoECDSA256v01, ssh.CertAlgoECDSA384v01, ssh.CertAlgoECDSA521v01,
			ssh.CertAlgoRSASHA512v01, ssh.CertAlgoRSASHA256v01)
	}
	for _, l := range m.keys {
		addAll(keyAlgorithms(l.key.Type())...)
	}
	appendMu.Lock()
	if k, ok := f.added[name]; ok {
		addAll(keyAlgorithms(k.Type())...)
	}
	appendMu.Unlock()
	if len(m.cas) > 0 && len(m.keys) == 0 {
		// A host without a certificate still negotiates a plain key, which
		// is then judged as OpenSSH judges it (unknown, or recorded).
		addAll(ssh.KeyAlgoED25519, ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521,
			ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256)
	}
	return algs
}

func keyAlgorithms(keyType string) []string {
	switch keyType {
	case ssh.KeyAlgoRSA:
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	case ssh.CertAlgoRSAv01:
		return []string{ssh.CertAlgoRSASHA512v01, ssh.CertAlgoRSASHA256v01, ssh.CertAlgoRSAv01}
	}
	return []string{keyType}
}

func sameKey(a, b ssh.PublicKey) bool { return bytes.Equal(a.Marshal(), b.Marshal()) }

func known(ls []*khLine) []knownhosts.KnownKey {
	out := make([]knownhosts.KnownKey, len(ls))
	for i, l := range ls {
		out[i] = knownhosts.KnownKey{Key: l.key, Filename: l.file, Line: l.line}
	}
	return out
}

// callback returns the HostKeyCallback for path; hash writes hashed host
// names when a key is recorded (HashKnownHosts).
func (db *hostKeyDB) callback(path string, hash bool) ssh.HostKeyCallback {
	return func(hostport string, remote net.Addr, key ssh.PublicKey) error {
		f := db.file(path)
		if f.err != nil {
			return f.err
		}
		m, name, host := f.lookupHost(hostport)
		plain := key
		certProblem := ""
		if cert, ok := key.(*ssh.Certificate); ok {
			plain = cert.Key
			for _, r := range m.revoked {
				if sameKey(r.key, cert.SignatureKey) || sameKey(r.key, cert.Key) {
					return &HostKeyError{Host: name, File: path, Offered: key, Revoked: &known([]*khLine{r})[0]}
				}
			}
			switch err := db.checkCert(m, host, cert); {
			case err == nil:
				return nil
			default:
				certProblem = err.Error()
			}
		}
		for _, r := range m.revoked {
			if sameKey(r.key, plain) {
				return &HostKeyError{Host: name, File: path, Offered: plain, Revoked: &known([]*khLine{r})[0]}
			}
		}
		for _, l := range m.keys {
			if sameKey(l.key, plain) {
				return nil
			}
		}
		if len(m.keys) > 0 {
			return &HostKeyError{Host: name, File: path, Offered: plain, Known: known(m.keys), Certificate: certProblem}
		}
		appendMu.Lock()
		defer appendMu.Unlock()
		if k, ok := f.added[name]; ok {
			if sameKey(k, plain) {
				return nil
			}
			return &HostKeyError{Host: name, File: path, Offered: plain,
				Known: []knownhosts.KnownKey{{Key: k, Filename: path, Line: 0}}}
		}
		if !db.acceptNew {
			return &HostKeyError{Host: name, File: path, Offered: plain, Unknown: true, Certificate: certProblem}
		}
		if err := appendKnownHost(path, name, plain, hash); err != nil {
			return err
		}
		f.added[name] = plain
		return nil
	}
}

// checkCert accepts a host certificate signed by a @cert-authority key
// that covers the host, valid now, naming host among its principals.
func (db *hostKeyDB) checkCert(m *khMatch, host string, cert *ssh.Certificate) error {
	if cert.CertType != ssh.HostCert {
		return fmt.Errorf("a certificate of type %d is not a host certificate", cert.CertType)
	}
	trusted := false
	for _, ca := range m.cas {
		if sameKey(ca.key, cert.SignatureKey) {
			trusted = true
			break
		}
	}
	if !trusted {
		if len(m.cas) == 0 {
			return errors.New("no @cert-authority line covers this host")
		}
		return fmt.Errorf("signed by %s, not by a @cert-authority of this host", ssh.FingerprintSHA256(cert.SignatureKey))
	}
	checker := ssh.CertChecker{Clock: db.now}
	if err := checker.CheckCert(host, cert); err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), "ssh: "))
	}
	return nil
}

// appendKnownHost adds one line for name (a lookup name, lower case) to
// path; the caller holds appendMu. An exclusive flock keeps two factorgate
// processes from recording the same host twice: under it the file is read
// again, and a key another process recorded meanwhile is checked instead of
// appended.
func appendKnownHost(path, name string, key ssh.PublicKey, hash bool) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("known_hosts: %w", err)
	}
	line := knownhosts.Line([]string{name}, key)
	if hash {
		line = knownhosts.HashHostname(name) + line[strings.IndexByte(line, ' '):]
	}
	fh, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("known_hosts: %w", err)
	}
	defer fh.Close()
	if err := syscall.Flock(int(fh.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("known_hosts: lock %s: %w", path, err)
	}
	st, err := fh.Stat()
	if err != nil {
		return fmt.Errorf("known_hosts: %w", err)
	}
	if st.Size() > 0 {
		if data, err := os.ReadFile(path); err == nil {
			exact, other := parseKnownHosts(data, path)
			again := &khFile{exact: exact, other: other, cache: map[string]*khMatch{}}
			m := again.lookup(name)
			for _, l := range m.keys {
				if sameKey(l.key, key) {
					return nil // recorded meanwhile by another process
				}
			}
			if len(m.keys) > 0 {
				return &HostKeyError{Host: name, File: path, Offered: key, Known: known(m.keys)}
			}
		}
		// Start on a line of our own if the file does not end in a newline.
		last := make([]byte, 1)
		if _, err := fh.ReadAt(last, st.Size()-1); err == nil && last[0] != '\n' {
			line = "\n" + line
		}
	}
	if _, err := fh.WriteString(line + "\n"); err != nil {
		return fmt.Errorf("known_hosts: %w", err)
	}
	return fh.Close()
}

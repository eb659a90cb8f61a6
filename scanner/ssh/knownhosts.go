package ssh

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// HostKeyError is returned (wrapped) when a host's key is refused: it is not
// in known_hosts (Unknown) or differs from the key recorded there. The scan
// records it as the host's error; the host is never trusted.
type HostKeyError struct {
	Host    string // host or [host]:port, as known_hosts names it
	File    string
	Offered ssh.PublicKey
	// Known are the keys known_hosts holds for the host; empty when Unknown.
	Known   []knownhosts.KnownKey
	Unknown bool
}

func (e *HostKeyError) Error() string {
	offered := e.Offered.Type() + " " + ssh.FingerprintSHA256(e.Offered)
	if e.Unknown {
		return fmt.Sprintf("host key unknown: %s offered %s, which is not in %s: add it (ssh-keyscan) or scan with --accept-new", e.Host, offered, e.File)
	}
	var known []string
	for _, k := range e.Known {
		known = append(known, fmt.Sprintf("%s %s at %s:%d", k.Key.Type(), ssh.FingerprintSHA256(k.Key), k.Filename, k.Line))
	}
	return fmt.Sprintf("host key mismatch: %s offered %s but known_hosts holds %s: refusing the host (if it was reinstalled, remove the old line with ssh-keygen -R)",
		e.Host, offered, strings.Join(known, ", "))
}

// hostKeyDB checks host keys against known_hosts files, each read once per
// scan, and records first-seen keys when acceptNew is set. It is safe for
// concurrent use by the goroutines of one scan.
type hostKeyDB struct {
	acceptNew bool

	mu    sync.Mutex
	files map[string]*khFile
}

type khFile struct {
	once  sync.Once
	check ssh.HostKeyCallback // nil when the file does not exist
	err   error
	// added are the keys this scan appended, by normalized address.
	added map[string]ssh.PublicKey
}

// appendMu serialises appends to known_hosts files across every scan of the
// process.
var appendMu sync.Mutex

func newHostKeyDB(acceptNew bool) *hostKeyDB {
	return &hostKeyDB{acceptNew: acceptNew, files: map[string]*khFile{}}
}

func (db *hostKeyDB) file(path string) *khFile {
	db.mu.Lock()
	f := db.files[path]
	if f == nil {
		f = &khFile{added: map[string]ssh.PublicKey{}}
		db.files[path] = f
	}
	db.mu.Unlock()
	f.once.Do(func() {
		cb, err := knownhosts.New(path)
		switch {
		case err == nil:
			f.check = cb
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

var probeKey = func() ssh.PublicKey {
	pub, _, _ := ed25519.GenerateKey(nil)
	k, _ := ssh.NewPublicKey(pub)
	return k
}()

// algorithms returns the host key algorithms known_hosts holds for
// hostport, so the server is asked for the key we can check; nil when none
// is known (the client's defaults then apply).
func (db *hostKeyDB) algorithms(path, hostport string) []string {
	f := db.file(path)
	var keys []ssh.PublicKey
	if f.check != nil {
		var ke *knownhosts.KeyError
		if err := f.check(hostport, dummyAddr, probeKey); errors.As(err, &ke) {
			for _, k := range ke.Want {
				keys = append(keys, k.Key)
			}
		}
	}
	appendMu.Lock()
	if k, ok := f.added[knownhosts.Normalize(hostport)]; ok {
		keys = append(keys, k)
	}
	appendMu.Unlock()
	var algs []string
	seen := map[string]bool{}
	for _, k := range keys {
		for _, a := range keyAlgorithms(k.Type()) {
			if !seen[a] {
				seen[a] = true
				algs = append(algs, a)
			}
		}
	}
	return algs
}

var dummyAddr = &net.TCPAddr{IP: net.IPv4(0, 0, 0, 0), Port: 22}

func keyAlgorithms(keyType string) []string {
	switch keyType {
	case ssh.KeyAlgoRSA:
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	case ssh.CertAlgoRSAv01:
		return []string{ssh.CertAlgoRSASHA512v01, ssh.CertAlgoRSASHA256v01, ssh.CertAlgoRSAv01}
	}
	return []string{keyType}
}

// callback returns the HostKeyCallback for path; hash writes hashed host
// names when a key is recorded (HashKnownHosts).
func (db *hostKeyDB) callback(path string, hash bool) ssh.HostKeyCallback {
	return func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		f := db.file(path)
		if f.err != nil {
			return f.err
		}
		norm := knownhosts.Normalize(hostname)
		if f.check != nil {
			err := f.check(hostname, remote, key)
			var ke *knownhosts.KeyError
			switch {
			case err == nil:
				return nil
			case errors.As(err, &ke) && len(ke.Want) > 0:
				return &HostKeyError{Host: norm, File: path, Offered: key, Known: ke.Want}
			case !errors.As(err, &ke):
				return fmt.Errorf("known_hosts: %w", err)
			}
		}
		appendMu.Lock()
		defer appendMu.Unlock()
		if k, ok := f.added[norm]; ok {
			if string(k.Marshal()) == string(key.Marshal()) {
				return nil
			}
			return &HostKeyError{Host: norm, File: path, Offered: key,
				Known: []knownhosts.KnownKey{{Key: k, Filename: path, Line: 0}}}
		}
		if !db.acceptNew {
			return &HostKeyError{Host: norm, File: path, Offered: key, Unknown: true}
		}
		if err := appendKnownHost(path, hostname, remote, key, hash); err != nil {
			return err
		}
		f.added[norm] = key
		return nil
	}
}

// appendKnownHost adds one line for hostname to path; the caller holds
// appendMu. An exclusive flock keeps two factorgate processes from
// recording the same host twice: under it the file is read again, and a
// key another process recorded meanwhile is checked instead of appended.
func appendKnownHost(path, hostname string, remote net.Addr, key ssh.PublicKey, hash bool) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("known_hosts: %w", err)
	}
	host := knownhosts.Normalize(hostname)
	line := knownhosts.Line([]string{host}, key)
	if hash {
		line = knownhosts.HashHostname(host) + line[strings.IndexByte(line, ' '):]
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
		if check, err := knownhosts.New(path); err == nil {
			var ke *knownhosts.KeyError
			switch err := check(hostname, remote, key); {
			case err == nil:
				return nil // recorded meanwhile by another process
			case errors.As(err, &ke) && len(ke.Want) > 0:
				return &HostKeyError{Host: host, File: path, Offered: key, Known: ke.Want}
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

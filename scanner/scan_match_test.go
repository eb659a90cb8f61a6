package scanner

import (
	"path/filepath"
	"testing"

	"github.com/factorgate/factorgate/internal/sshdtest"
)

// TestScanRealSSHDMatchBlocks scans Debian's real sshd started with -o
// options and a configuration with Match blocks, one of them in a file a
// quoted Include names: the facts carry the -o setting, each block with
// its file and line, and what sshd -T -C resolved for a connection it
// matches.
func TestScanRealSSHDMatchBlocks(t *testing.T) {
	srv := sshdtest.Start(t, sshdtest.Config{
		PasswordAuthentication: true,
		Args:                   []string{"-o", "PermitEmptyPasswords=yes"},
		Files:                  map[string]string{"conf dir/10-bob.conf": "Match User bob\n  PasswordAuthentication no\n"},
		Settings:               []string{`Include "$DIR/conf dir/*.conf"`},
		Extra:                  []string{"Match Address *", "  AuthenticationMethods publickey"},
	})
	dir := filepath.Join(srv.Dir, "conf dir")

	f := scanOne(t, srv)
	s := f.SSHD
	if s == nil || s.Listener != "process" || deref(s.Binary) != srv.Binary || deref(s.Config) != srv.ConfigFile {
		t.Fatalf("sshd = %+v, want %s with %s found from the process", s, srv.Binary, srv.ConfigFile)
	}
	if s.PermitEmptyPasswords == nil || !*s.PermitEmptyPasswords {
		t.Errorf("permit_empty_passwords = %v, want true from the listener's -o option", s.PermitEmptyPasswords)
	}
	if deref(s.PasswordAuthentication) != true || deref(s.AuthenticationMethods) != "any" {
		t.Errorf("global settings: %s", sshdLine(s))
	}
	if len(s.MatchBlocks) != 2 {
		t.Fatalf("match blocks = %+v, want 2", s.MatchBlocks)
	}
	bob, all := s.MatchBlocks[0], s.MatchBlocks[1]
	if bob.File != filepath.Join(dir, "10-bob.conf") || bob.Line != 1 || bob.Criteria != "User bob" || bob.AllConnections ||
		bob.Settings["passwordauthentication"] != "no" || bob.Effective["passwordauthentication"] != "no" {
		t.Errorf("bob's block = %+v", bob)
	}
	if all.File != srv.ConfigFile || all.Criteria != "Address *" || !all.AllConnections ||
		all.Settings["authenticationmethods"] != "publickey" || all.Effective["authenticationmethods"] != "publickey" ||
		all.Effective["permitemptypasswords"] != "yes" {
		t.Errorf("Address * block = %+v", all)
	}
}

package history

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/factorgate/factorgate/internal/pgtest"
	"github.com/jackc/pgx/v5"
)

// TestOpenNeverShowsPassword opens histories named by URLs that hold a
// password and fail, to parse, to connect or otherwise: no error quotes the
// password, or any part of it.
func TestOpenNeverShowsPassword(t *testing.T) {
	const pw = "Sup3rS3cr3t"
	// A port where nothing listens.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	cases := []string{
		"postgres://fg:" + pw + "@[::1/fg",                                             // unclosed IPv6 bracket
		"postgres://fg:" + pw + "@db.example:54x2/fg",                                  // bad port
		"postgres://fg:Sup3r#S3cr3t@db.example/fg",                                     // '#' in the password cuts the URL
		"postgres://fg:Sup3r%zzS3cr3t@db.example/fg",                                   // bad escape
		"postgres://fg:Sup3r S3cr3t@db.example/fg",                                     // space
		"postgres://fg:" + pw + "@db.example/fg\x7f",                                   // control character
		"postgres://fg:" + pw + "@db.example/fg?sslmode=%zz",                           // bad query escape
		"postgres://fg:" + pw + "@db.example/fg?sslmode=sometimes",                     // the driver refuses the parameter
		"postgres://fg:" + pw + "@db.example/fg?connect_timeout=soon",                  // ditto
		"postgres://fg:" + pw + "@/fg",                                                 // no host
		"postgresql://fg:" + pw + "@" + closed + "," + closed + "/fg?sslmode=disable",  // several hosts, none listening
		"postgres:/fg:" + pw + "@db.example/fg",                                        // one slash
		"postgres//fg:" + pw + "@db.example/fg",                                        // no colon
		"mysql://fg:" + pw + "@db.example/fg",                                          // another database
		"host=db.example user=fg password=" + pw + " dbname=fg",                        // PostgreSQL key=value
		"sqlite:" + filepath.Join(dir, "h.db") + "?_auth_pass=" + pw,                   // a query on an SQLite path
		"sqlite://fg:" + pw + "@" + filepath.Join(dir, "h.db"),                         // user info on an SQLite path
		"postgres://fg:" + pw + "@" + closed + "/fg?sslmode=disable&connect_timeout=2", // nothing listens
	}
	for i, dsn := range cases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			s, err := Open(ctx, dsn)
			if err == nil {
				s.Close()
				t.Fatalf("Open of case %d succeeded", i)
			}
			msg := err.Error()
			for _, part := range []string{pw, "Sup3r", "S3cr3t", "%zz"} {
				if strings.Contains(msg, part) {
					t.Errorf("error quotes the password (%q): %s", part, msg)
				}
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error is not one line: %q", msg)
			}
			if !strings.HasPrefix(msg, "history") {
				t.Errorf("error does not say it is the history: %s", msg)
			}
			t.Log(msg)
		})
	}
	// A server that answers, and refuses: the database does not exist.
	t.Run("no such database", func(t *testing.T) {
		u, err := url.Parse(pgtest.NewDatabase(t))
		if err != nil {
			t.Fatal(err)
		}
		u.User = url.UserPassword(u.User.Username(), pw)
		u.Path = "/no_such_db"
		q := u.Query()
		q.Set("sslpassword", pw)
		u.RawQuery = q.Encode()
		_, err = Open(context.Background(), u.String())
		if err == nil || strings.Contains(err.Error(), pw) || !strings.Contains(err.Error(), "no_such_db") {
			t.Errorf("Open = %v, want an error naming the database and not the password", err)
		}
	})
	// A server that lets the user in and refuses the schema: the error of
	// the migration is the driver's, and names no password either.
	t.Run("migration refused", func(t *testing.T) {
		admin := pgtest.NewDatabase(t)
		role := fmt.Sprintf("fg_ro_%d", os.Getpid())
		conn, err := pgx.Connect(context.Background(), admin)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), "CREATE ROLE "+role+" LOGIN"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Exec(context.Background(), "DROP ROLE IF EXISTS "+role) })
		u, err := url.Parse(admin)
		if err != nil {
			t.Fatal(err)
		}
		u.User = url.UserPassword(role, pw)
		_, err = Open(context.Background(), u.String())
		if err == nil || strings.Contains(err.Error(), pw) || !strings.Contains(err.Error(), "permission denied for schema public") {
			t.Errorf("Open = %v, want the schema refused, without the password", err)
		}
		t.Log(err)
	})
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		t.Errorf("a file was created: %s", e.Name())
	}
}

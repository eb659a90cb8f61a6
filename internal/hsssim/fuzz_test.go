package hsssim

import "testing"

// FuzzParseAuthorization checks that no Authorization header makes the
// emulator panic, and that an accepted one has every part.
func FuzzParseAuthorization(f *testing.F) {
	f.Add("SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;x-sdk-date, Signature=abcd")
	f.Add("SDK-HMAC-SHA256 ,,,")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		a, err := parseAuthorization(s)
		if err == nil && (a.AccessKey == "" || a.Signature == "" || len(a.SignedHeaders) == 0) {
			t.Fatalf("accepted %q as %+v", s, a)
		}
	})
}

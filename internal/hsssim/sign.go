package hsssim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// The signing scheme of the API gateway, written from its published
// description rather than from the SDK's signer, so that the emulator checks
// what a real gateway would check.
const (
	algorithm  = "SDK-HMAC-SHA256"
	dateHeader = "X-Sdk-Date"
	dateFormat = "20060102T150405Z"
	// contentHashHeader carries UNSIGNED-PAYLOAD for bodies that are not JSON.
	contentHashHeader = "X-Sdk-Content-Sha256"
	maxSkew           = 15 * time.Minute
)

// authorization is a parsed Authorization header.
type authorization struct {
	AccessKey     string
	SignedHeaders []string
	Signature     string
}

// parseAuthorization reads `SDK-HMAC-SHA256 Access=AK, SignedHeaders=a;b, Signature=hex`.
func parseAuthorization(v string) (authorization, error) {
	var a authorization
	rest, ok := strings.CutPrefix(v, algorithm+" ")
	if !ok {
		return a, errors.New("authorization does not use " + algorithm)
	}
	for _, part := range strings.Split(rest, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return a, fmt.Errorf("authorization part %q has no '='", part)
		}
		switch k {
		case "Access":
			a.AccessKey = val
		case "SignedHeaders":
			a.SignedHeaders = strings.Split(val, ";")
		case "Signature":
			a.Signature = val
		}
	}
	if a.AccessKey == "" || len(a.SignedHeaders) == 0 || a.Signature == "" {
		return a, errors.New("authorization lacks Access, SignedHeaders or Signature")
	}
	return a, nil
}

// unreserved are the bytes the canonical form leaves as they are.
func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

// escape percent-encodes every byte but the unreserved ones, in upper-case hex.
func escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// canonicalURI escapes each segment of the decoded path and ends it in '/'.
func canonicalURI(path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		segs[i] = escape(s)
	}
	u := strings.Join(segs, "/")
	if !strings.HasSuffix(u, "/") {
		u += "/"
	}
	return u
}

// canonicalQuery sorts the query by key, then value, each escaped.
func canonicalQuery(rawQuery string) (string, error) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return "", fmt.Errorf("query: %w", err)
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		vs := append([]string(nil), q[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			parts = append(parts, escape(k)+"="+escape(v))
		}
	}
	return strings.Join(parts, "&"), nil
}

// signedRequest is what a signature covers.
type signedRequest struct {
	Method   string
	Path     string // decoded
	RawQuery string
	Host     string
	Header   http.Header
	Body     []byte
}

// canonicalRequest builds the canonical request for the given signed headers.
func canonicalRequest(r signedRequest, signed []string) (string, error) {
	query, err := canonicalQuery(r.RawQuery)
	if err != nil {
		return "", err
	}
	var hb strings.Builder
	for _, name := range signed {
		var vals []string
		if name == "host" {
			vals = []string{r.Host}
		} else {
			vals = append(vals, r.Header.Values(name)...)
		}
		sort.Strings(vals)
		for _, v := range vals {
			hb.WriteString(name + ":" + strings.TrimSpace(v) + "\n")
		}
	}
	bodyHash := r.Header.Get(contentHashHeader)
	if bodyHash == "" {
		sum := sha256.Sum256(r.Body)
		bodyHash = hex.EncodeToString(sum[:])
	}
	return strings.Join([]string{
		r.Method,
		canonicalURI(r.Path),
		query,
		hb.String(),
		strings.Join(signed, ";"),
		bodyHash,
	}, "\n"), nil
}

// signature computes the hex signature of r, dated date, with secret key sk.
func signature(r signedRequest, signed []string, date, sk string) (string, error) {
	cr, err := canonicalRequest(r, signed)
	if err != nil {
		return "", err
	}
	crHash := sha256.Sum256([]byte(cr))
	sts := algorithm + "\n" + date + "\n" + hex.EncodeToString(crHash[:])
	mac := hmac.New(sha256.New, []byte(sk))
	mac.Write([]byte(sts))
	return hex.EncodeToString(mac.Sum(nil)), nil
}

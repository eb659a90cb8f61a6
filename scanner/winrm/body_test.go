package winrm_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/factorgate/factorgate/scanner/transport"
	"github.com/factorgate/factorgate/scanner/winrm"
)

// hostileSize is what the hostile host sends in answer to any request.
const hostileSize = 300 << 20

// hostileServer answers every request with a 300 MB SOAP body, and counts
// the bytes it managed to send.
func hostileServer(tb testing.TB) (*httptest.Server, *atomic.Int64) {
	tb.Helper()
	var sent atomic.Int64
	chunk := bytes.Repeat([]byte("<w:Stream>QUFBQUFBQUFB</w:Stream>"), 2048)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/soap+xml;charset=UTF-8")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>`)
		for n := 0; n < hostileSize; n += len(chunk) {
			k, err := w.Write(chunk)
			sent.Add(int64(k))
			if err != nil {
				return
			}
		}
	}))
	tb.Cleanup(srv.Close)
	return srv, &sent
}

// A host that answers with an endless body costs the scanner no more than
// the output cap: the response is cut at the HTTP body, not after it was
// read whole.
func TestWinRMResponseBodyCapped(t *testing.T) {
	srv, sent := hostileServer(t)
	h := serverHost(t, srv, false, "basic")
	h.WinRM.AllowBasicOverHTTP = true
	opts := simOptions(simPassword)
	opts.MaxOutput = 1 << 20
	_, err := winrm.Dial(context.Background(), h, opts)
	if !errors.Is(err, transport.ErrOutputTooLarge) {
		t.Fatalf("err = %v, want ErrOutputTooLarge", err)
	}
	t.Log(err)
	srv.CloseClientConnections()
	// What is in flight in socket buffers is no matter; the 300 MB are.
	if n := sent.Load(); n > 64<<20 {
		t.Errorf("the scanner read %d MB of a hostile answer with a 1 MB cap", n>>20)
	}
}

package audit_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/factorgate/factorgate/audit"
	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/policies"
)

// TestJudgeReaderStopsEarly judges a stream of saved facts (check --facts)
// whose first decision the sink refuses: Judge returns the sink's error
// without reading the rest of the stream, which may be a pipe from a scan
// still running.
func TestJudgeReaderStopsEarly(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ev, err := policies.New(ctx, policies.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const total = 5000
	read := 0
	next := func() (*contract.Facts, []byte, error) {
		if read == total {
			return nil, nil, io.EOF
		}
		read++
		line := fmt.Sprintf(`{"schema":%q,"collected_at":"2026-11-27T06:00:00Z","host":{"name":"h-%05d","address":"10.0.0.1","port":22,"transport":"ssh"},"reachable":false,"error":"i/o timeout"}`,
			contract.FactsSchema, read)
		return nil, []byte(line), nil
	}
	refused := errors.New("disk full")
	decided := 0
	err = audit.Judge(ctx, ev, audit.Reader(next), func(d contract.Decision) error {
		decided++
		if d.Status != contract.StatusUnreachable {
			t.Errorf("%s: status %s, want unreachable", d.Host, d.Status)
		}
		return refused
	})
	if !errors.Is(err, refused) {
		t.Fatalf("Judge = %v, want the sink's error", err)
	}
	// Workers judging when the sink refused may still hand it their
	// decision; the stream itself is left unread.
	if read >= total/2 {
		t.Errorf("%d of %d facts read (sink called %d times): want the stream left unread", read, total, decided)
	}
}

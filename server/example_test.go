package server_test

import (
	"context"
	"log"
	"net"
	"os/signal"
	"syscall"
	"time"

	"github.com/factorgate/factorgate/history"
	"github.com/factorgate/factorgate/server"
)

// ExampleNew wires a server: an audit function, a history, a schedule, a
// webhook; then serves until SIGTERM.
func ExampleNew() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	store, err := history.Open(ctx, "/var/lib/factorgate/history.db")
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	srv, err := server.New(server.Config{
		Audit: func(ctx context.Context) (*history.Result, error) {
			// Scan and judge the fleet here (factorgate serve uses the
			// same audit as check -i).
			return &history.Result{}, nil
		},
		Store:         store,
		Schedule:      "@every 6h",
		RunAtStart:    true,
		ShutdownGrace: 30 * time.Second,
		Webhook:       server.Webhook{URL: "https://hooks.example.com/drift", Secret: "signing key"},
	})
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:8080")
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Run(ctx, ln); err != nil {
		log.Fatal(err)
	}
}

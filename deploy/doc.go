// Package deploy holds the operations examples of factorgate (systemd units,
// a cron line, Kubernetes manifests, a Dockerfile; see README.md) and the
// test that keeps them honest: secrets out of argv, hardening in place.
// It has no Go code of its own.
package deploy

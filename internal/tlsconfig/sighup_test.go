//go:build unix

package tlsconfig

import (
	"context"
	"crypto/x509"
	"os"
	"syscall"
	"testing"
	"time"
)

func TestSIGHUPReloads(t *testing.T) {
	dir := t.TempDir()
	cf, kf, first := selfSigned(t, dir, "first")
	src, err := New(Options{CertFile: cf, KeyFile: kf, PollInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, src)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx) }()
	defer func() { cancel(); <-done }()
	time.Sleep(50 * time.Millisecond) // let Run install its handler

	_, _, second := selfSigned(t, dir, "second")
	roots := x509.NewCertPool()
	roots.AddCert(first)
	roots.AddCert(second)
	if cn, _ := peerCN(t, addr, "127.0.0.1", roots); cn != "first" {
		t.Fatalf("reloaded without a signal: %q", cn)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitCN(t, addr, roots, "second")
}

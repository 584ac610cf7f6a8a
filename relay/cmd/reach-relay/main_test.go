package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/reachdesk/reach/proto"
)

// TestTLSFlags starts the relay command with -tls-cert/-tls-key and fetches
// /healthz over HTTPS trusting only the self-signed certificate; without TLS
// flags it serves plain HTTP; a half-given pair is refused.
func TestTLSFlags(t *testing.T) {
	dir := t.TempDir()
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	pemPub, err := proto.MarshalPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	keys := filepath.Join(dir, "console.pub")
	os.WriteFile(keys, pemPub, 0o600)
	certFile, keyFile, cert := selfSigned(t, dir)
	base := []string{"-console-keys", keys, "-turn-listen", "", "-metrics-listen", "", "-log-level", "error"}

	t.Run("https", func(t *testing.T) {
		addr := startRelay(t, append(base, "-tls-cert", certFile, "-tls-key", keyFile))
		roots := x509.NewCertPool()
		roots.AddCert(cert)
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
		waitGet(t, c, "https://"+addr+"/healthz")
		// Go's TLS server answers plain HTTP with a 400, never the page.
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Fatal("plain HTTP served on the TLS listener")
			}
		}
	})
	t.Run("plain", func(t *testing.T) {
		addr := startRelay(t, base)
		waitGet(t, http.DefaultClient, "http://"+addr+"/healthz")
	})
	t.Run("cert without key", func(t *testing.T) {
		err := run(context.Background(), append(base, "-listen", "127.0.0.1:0", "-tls-cert", certFile))
		if err == nil {
			t.Fatal("accepted -tls-cert without -tls-key")
		}
	})
}

func startRelay(t *testing.T, args []string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, append(args, "-listen", addr)) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	return addr
}

func waitGet(t *testing.T, c *http.Client, url string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := c.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: %s", url, resp.Status)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", url, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func selfSigned(t *testing.T, dir string) (certFile, keyFile string, cert *x509.Certificate) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "relay"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "relay.crt"), filepath.Join(dir, "relay.key")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600)
	cert, _ = x509.ParseCertificate(der)
	return certFile, keyFile, cert
}

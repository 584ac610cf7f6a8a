package tlsconfig

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// selfSigned writes a self-signed certificate for 127.0.0.1 with the given
// common name to dir and returns the file names and the certificate.
func selfSigned(t *testing.T, dir, cn string) (certFile, keyFile string, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeAtomic(t, certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	writeAtomic(t, keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}))
	cert, err = x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, cert
}

func writeAtomic(t *testing.T, name string, b []byte) {
	t.Helper()
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, name); err != nil {
		t.Fatal(err)
	}
}

// serve runs an HTTPS server with src's config on 127.0.0.1 and returns its address.
func serve(t *testing.T, src *Source) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler:   http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }),
		TLSConfig: src.TLSConfig(),
	}
	go srv.ServeTLS(ln, "", "")
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// peerCN dials addr trusting roots and returns the served certificate's CN.
func peerCN(t *testing.T, addr, serverName string, roots *x509.CertPool) (string, error) {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, ServerName: serverName})
	if err != nil {
		return "", err
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].Subject.CommonName, nil
}

func TestOptionErrors(t *testing.T) {
	dir := t.TempDir()
	cf, kf, _ := selfSigned(t, dir, "a")
	tests := []struct {
		name string
		opts Options
		want error
	}{
		{"nothing", Options{}, ErrNoTLS},
		{"cert without key", Options{CertFile: cf}, nil},
		{"key without cert", Options{KeyFile: kf}, nil},
		{"files and acme", Options{CertFile: cf, KeyFile: kf, ACMEDomains: []string{"a.example"}}, nil},
		{"acme without cache", Options{ACMEDomains: []string{"a.example"}}, nil},
		{"acme bad domain", Options{ACMEDomains: []string{"a.example/x"}, ACMECacheDir: dir}, nil},
		{"missing file", Options{CertFile: cf, KeyFile: filepath.Join(dir, "none")}, nil},
		{"swapped files", Options{CertFile: kf, KeyFile: cf}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.opts)
			if err == nil {
				t.Fatal("accepted")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestFilesServeAndReload(t *testing.T) {
	dir := t.TempDir()
	cf, kf, first := selfSigned(t, dir, "first")
	src, err := New(Options{CertFile: cf, KeyFile: kf, PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, src)
	roots := x509.NewCertPool()
	roots.AddCert(first)
	if cn, err := peerCN(t, addr, "127.0.0.1", roots); err != nil || cn != "first" {
		t.Fatalf("cn=%q err=%v", cn, err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx) }()
	defer func() { cancel(); <-done }()

	// A broken pair (new cert with the old key) is refused; the old one stays.
	other := t.TempDir()
	cf2, _, _ := selfSigned(t, other, "broken")
	b, _ := os.ReadFile(cf2)
	writeAtomic(t, cf, b)
	time.Sleep(100 * time.Millisecond)
	if cn, err := peerCN(t, addr, "127.0.0.1", roots); err != nil || cn != "first" {
		t.Fatalf("after a broken pair: cn=%q err=%v", cn, err)
	}

	// A good new pair is picked up by polling.
	_, _, second := selfSigned(t, dir, "second")
	roots.AddCert(second)
	waitCN(t, addr, roots, "second")
}

func waitCN(t *testing.T, addr string, roots *x509.CertPool, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		cn, err := peerCN(t, addr, "127.0.0.1", roots)
		if err == nil && cn == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("served cn=%q err=%v, want %q", cn, err, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestTLS12Minimum(t *testing.T) {
	dir := t.TempDir()
	cf, kf, cert := selfSigned(t, dir, "x")
	src, err := New(Options{CertFile: cf, KeyFile: kf})
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, src)
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	_, err = tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, MaxVersion: tls.VersionTLS11, ServerName: "127.0.0.1"})
	if err == nil {
		t.Fatal("TLS 1.1 handshake succeeded")
	}
}

package tlsconfig

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// freePort returns a TCP (and UDP) port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// start runs a command until the test ends, logging its output on failure.
func start(t *testing.T, env []string, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	out, _ := os.Create(filepath.Join(t.TempDir(), name+".log"))
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(out.Name())
			t.Logf("%s output:\n%s", name, b)
		}
	})
}

func waitDial(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never came up: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestACMEWithPebble obtains a real certificate from pebble, the ACME test
// server (Debian package pebble), which validates the TLS-ALPN-01 challenge
// against our listener; its companion pebble-challtestsrv answers DNS so the
// test domain resolves to 127.0.0.1.
func TestACMEWithPebble(t *testing.T) {
	if _, err := exec.LookPath("pebble"); err != nil {
		t.Skip("pebble not installed (scripts/setup.sh installs it)")
	}
	if testing.Short() {
		t.Skip("starts pebble")
	}
	dir := t.TempDir()
	// pebble's own HTTPS listener needs a certificate; the client trusts it.
	pcf, pkf, pcert := selfSigned(t, dir, "pebble")

	const domain = "relay.reach.test"
	cache := filepath.Join(dir, "acme")
	pool := x509.NewCertPool()
	pool.AddCert(pcert)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 30 * time.Second}

	// Our server first: pebble must know the port it validates on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tlsPort := ln.Addr().(*net.TCPAddr).Port
	dnsPort, acmePort, mgmtPort, chalMgmt := freePort(t), freePort(t), freePort(t), freePort(t)

	start(t, nil, "pebble-challtestsrv",
		"-dns01", "127.0.0.1:"+strconv.Itoa(dnsPort), "-http01", "", "-https01", "", "-tlsalpn01", "",
		"-management", "127.0.0.1:"+strconv.Itoa(chalMgmt), "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "")
	waitDial(t, "127.0.0.1:"+strconv.Itoa(chalMgmt))
	cfg := map[string]any{"pebble": map[string]any{
		"listenAddress":           "127.0.0.1:" + strconv.Itoa(acmePort),
		"managementListenAddress": "127.0.0.1:" + strconv.Itoa(mgmtPort),
		"certificate":             pcf, "privateKey": pkf,
		"httpPort": freePort(t), "tlsPort": tlsPort,
		"ocspResponderURL": "", "externalAccountBindingRequired": false,
	}}
	b, _ := json.Marshal(cfg)
	cfgFile := filepath.Join(dir, "pebble.json")
	if err := os.WriteFile(cfgFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	start(t, []string{"PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0"}, "pebble",
		"-config", cfgFile, "-dnsserver", "127.0.0.1:"+strconv.Itoa(dnsPort))
	waitDial(t, "127.0.0.1:"+strconv.Itoa(acmePort))

	src, err := New(Options{
		ACMEDomains: []string{domain}, ACMEEmail: "it@reach.test", ACMECacheDir: cache,
		ACMEDirectoryURL: fmt.Sprintf("https://127.0.0.1:%d/dir", acmePort), ACMEHTTPClient: client,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler:   http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }),
		TLSConfig: src.TLSConfig(),
	}
	go srv.ServeTLS(ln, "", "")
	defer srv.Close()

	// pebble's roots are made at its start; trust them to verify the chain.
	resp, err := client.Get(fmt.Sprintf("https://127.0.0.1:%d/roots/0", mgmtPort))
	if err != nil {
		t.Fatal(err)
	}
	rootPEM, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(rootPEM) {
		t.Fatalf("pebble root: %q", rootPEM)
	}

	// The first handshake for the domain obtains the certificate.
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 60 * time.Second}, "tcp", ln.Addr().String(), &tls.Config{ServerName: domain, RootCAs: roots})
	if err != nil {
		t.Fatalf("handshake for %s: %v", domain, err)
	}
	leaf := conn.ConnectionState().PeerCertificates[0]
	conn.Close()
	if len(leaf.DNSNames) != 1 || leaf.DNSNames[0] != domain {
		t.Fatalf("certificate for %v", leaf.DNSNames)
	}
	// It is cached for the next start.
	if _, err := os.Stat(filepath.Join(cache, domain)); err != nil {
		t.Fatalf("not cached: %v", err)
	}
	// Names outside the list are refused without asking the CA.
	if _, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{ServerName: "other.reach.test", RootCAs: roots}); err == nil {
		t.Fatal("served a certificate for a name not configured")
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"

	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServe runs serve until the test ends and returns its address and
// what it printed.
func startServe(t *testing.T, data string, extra ...string) (string, *bytes.Buffer, func()) {
	t.Helper()
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	out := &bytes.Buffer{}
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, append([]string{"-data", data, "-listen", addr, "-public-url", "http://help.example.com",
			"-log-level", "error"}, extra...), out)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		select {
		case err := <-done:
			t.Fatalf("serve exited: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("console did not become healthy")
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop := func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve returned %v on shutdown", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("serve did not shut down")
		}
	}
	return addr, out, stop
}

func TestServe(t *testing.T) {
	t.Setenv(dbEnv, "")
	data := t.TempDir()
	addr, out, stop := startServe(t, data)
	m := regexp.MustCompile(`First admin: (\S+)\nOne-time password: (\S+)\n`).FindStringSubmatch(out.String())
	if m == nil || m[1] != "admin@help.example.com" || len(m[2]) != 20 {
		t.Fatalf("bootstrap output %q", out.String())
	}
	base := "http://" + addr
	body, _ := json.Marshal(map[string]string{"email": m[1], "password": m[2]})
	resp, err := http.Post(base+"/api/v1/auth/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("first admin cannot sign in: %d", resp.StatusCode)
	}
	for _, tc := range []struct {
		path, wantType string
		status         int
	}{
		{"/.well-known/reach/keys", "application/x-pem-file", 200},
		{"/api/v1/openapi.json", "application/json", 200},
		{"/api/v1/tickets", "application/json", 401},
		{"/agent/v1/token", "application/json", 0}, // mounted: answered by the agent API, not the UI
		{"/tickets/42", "text/html", 200},          // the UI's own routes
	} {
		resp, err := http.Get(base + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if (tc.status != 0 && resp.StatusCode != tc.status) || !strings.HasPrefix(resp.Header.Get("Content-Type"), tc.wantType) {
			t.Errorf("GET %s: %d %s %.80s", tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), b)
		}
	}
	for _, f := range []string{"console.db", "keys/signing.key", "secrets.key"} {
		fi, err := os.Stat(data + "/" + f)
		if err != nil || fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s: %v, mode %v", f, err, fi)
		}
	}
	stop()

	// A second start keeps the admin and prints nothing.
	_, out, stop = startServe(t, data)
	defer stop()
	if out.Len() != 0 {
		t.Errorf("second start printed %q", out.String())
	}
}

func TestServeRefusesBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-log-format", "xml"}, {"extra"}, {"-db-file", "/nonexistent/dsn"}} {
		err := serve(context.Background(), append([]string{"-data", t.TempDir()}, args...), io.Discard)
		if err == nil {
			t.Errorf("serve %v: no error", args)
		}
	}

}

package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reachdesk/reach/proto"
)

func writeState(t *testing.T) (dir, token string) {
	t.Helper()
	dir = t.TempDir()
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	keyPEM, _ := proto.MarshalPrivateKey(key)
	pubPEM, _ := proto.MarshalPublicKey(pub)
	token = "secret-device-token-value"
	for name, data := range map[string][]byte{deviceKeyFile: keyPEM, consolePubFile: pubPEM, deviceTokenFile: []byte(token + "\n")} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir, token
}

func TestJoinAndServeFlags(t *testing.T) {
	dir, token := writeState(t)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"join", "-state", dir, "-relay", "ws://127.0.0.1:1", "12"}, 1, "invalid or expired code"},
		{[]string{"join", "-state", t.TempDir(), "-relay", "ws://127.0.0.1:1", "123456789"}, 1, "device key"},
		{[]string{"join", "-state", dir, "123456789"}, 1, "-relay is required"},
		{[]string{"join", "-state", dir}, 2, "session code"},
		{[]string{"serve", "-state", dir, "-relay", "ws://x", "-policy", "sometimes"}, 2, "unknown policy"},
	} {
		var stdout, stderr bytes.Buffer
		got := run(context.Background(), tc.args, &stdout, &stderr)
		if got != tc.code || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, got, stderr.String(), tc.code, tc.want)
		}
		if strings.Contains(stderr.String()+stdout.String(), token) {
			t.Errorf("%v: the device token was printed", tc.args)
		}
	}
}

func TestEnvironmentSetsFlags(t *testing.T) {
	dir, _ := writeState(t)
	t.Setenv("REACH_AGENT_STATE", dir)
	var stdout, stderr bytes.Buffer
	// Without -relay in argv or env the state dir from the environment is
	// accepted and the missing relay is reported.
	if got := run(context.Background(), []string{"join", "123456789"}, &stdout, &stderr); got != 1 || !strings.Contains(stderr.String(), "-relay is required") {
		t.Fatalf("exit %d, stderr %q", got, stderr.String())
	}
}

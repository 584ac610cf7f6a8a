package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadToken(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "token")
	os.WriteFile(good, []byte("  enroll-secret\n"), 0o600)
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte("\n"), 0o600)
	huge := filepath.Join(dir, "huge")
	os.WriteFile(huge, bytes.Repeat([]byte("x"), maxTokenSize+1), 0o600)
	for _, tc := range []struct {
		name          string
		flag, file    string
		argv          bool
		stdin         string
		want, wantErr string
		wantWarn      bool
	}{
		{name: "file", file: good, want: "enroll-secret"},
		{name: "file wins over flag", flag: "other", file: good, want: "enroll-secret"},
		{name: "stdin", file: "-", stdin: "from-stdin\n", want: "from-stdin"},
		{name: "env or flag", flag: "from-env", want: "from-env"},
		{name: "argv warns", flag: "from-argv", argv: true, want: "from-argv", wantWarn: true},
		{name: "missing file", file: filepath.Join(dir, "none"), wantErr: "token file"},
		{name: "empty file", file: empty, wantErr: "empty"},
		{name: "huge file", file: huge, wantErr: "not a token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			got, err := readToken(tc.flag, tc.file, tc.argv, strings.NewReader(tc.stdin), &stderr)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v", got, err)
			}
			if warned := strings.Contains(stderr.String(), "visible to other users"); warned != tc.wantWarn {
				t.Fatalf("warned=%v", warned)
			}
		})
	}
}

// TestInstallUsage covers the errors found before anything is touched;
// the install itself is tested in package installer against a temporary
// root (this test may run as root on a real system).
func TestInstallUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"install"}, 2, "-server is required"},
		{[]string{"install", "-server", "https://x", "-unattended", "sometimes"}, 2, "consent or allow"},
		{[]string{"install", "-server", "https://x", "-token-file", "/nonexistent/token"}, 1, "token file"},
		{[]string{"uninstall", "extra"}, 2, ""},
		{[]string{"upgrade"}, 2, "-binary is required"},
		{[]string{"version"}, 0, ""},
	} {
		var stdout, stderr bytes.Buffer
		got := run(context.Background(), tc.args, &stdout, &stderr)
		if got != tc.code || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, got, stderr.String(), tc.code, tc.want)
		}
	}
	var stdout, stderr bytes.Buffer
	run(context.Background(), []string{"version"}, &stdout, &stderr)
	if !strings.HasPrefix(stdout.String(), "reach-agent ") {
		t.Fatalf("version printed %q", stdout.String())
	}
}

// TestServiceLoadsConfig runs the service command (what launchd and the
// Windows service manager start) with a config naming an empty state
// directory: serve, reading its settings from the config, reports that
// directory's missing identity.
func TestServiceLoadsConfig(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	os.Mkdir(state, 0o700)
	conf := filepath.Join(dir, "agent.conf")
	os.WriteFile(conf, []byte("# test\nREACH_AGENT_STATE="+state+"\nREACH_AGENT_RELAY=ws://127.0.0.1:1\nREACH_AGENT_POLICY=deny\nREACH_AGENT_UI=terminal\n"), 0o600)
	for _, k := range []string{"REACH_AGENT_STATE", "REACH_AGENT_RELAY", "REACH_AGENT_POLICY", "REACH_AGENT_UI"} {
		t.Setenv(k, "") // restored after the test; LoadEnv sets them
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"service", "-config", conf}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), state) {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
	code = run(context.Background(), []string{"service", "-config", filepath.Join(dir, "none")}, &stdout, &stderr)
	if code != 1 {
		t.Fatalf("missing config: exit %d", code)
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"

	inv "github.com/reachdesk/reach/proto/inventory"
)

// runCmd runs the command line in-process and returns its exit code and output.
func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		code int
		out  string
	}{
		{nil, 2, ""},
		{[]string{"help"}, 0, "inventory"},
		{[]string{"frobnicate"}, 2, ""},
		{[]string{"inventory", "-format", "xml"}, 2, ""},
		{[]string{"inventory", "extra"}, 2, ""},
		{[]string{"diagnose", "-nope"}, 2, ""},
		{[]string{"diagnose", "-h"}, 0, ""},
	} {
		code, stdout, stderr := runCmd(t, tt.args...)
		if code != tt.code || !strings.Contains(stdout, tt.out) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit %d", tt.args, code, stdout, stderr, tt.code)
		}
	}
	if _, _, stderr := runCmd(t, "frobnicate"); !strings.Contains(stderr, `unknown command "frobnicate"`) || !strings.Contains(stderr, "diagnose") {
		t.Errorf("unknown command: %q", stderr)
	}
}

func TestInventoryFormats(t *testing.T) {
	if testing.Short() {
		t.Skip("collects the live system")
	}
	code, out, stderr := runCmd(t, "inventory")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if _, err := inv.Decode([]byte(out)); err != nil {
		t.Fatalf("inventory JSON is not a valid report: %v", err)
	}

	code, out, stderr = runCmd(t, "inventory", "-format", "glpi", "-glpi-tag", "site-a")
	var g map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &g) != nil {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if g["action"] != "inventory" || g["itemtype"] != "Computer" || g["deviceid"] == "" || g["tag"] != "site-a" || g["content"] == nil {
		t.Errorf("GLPI document: %v", g)
	}

	code, out, stderr = runCmd(t, "inventory", "-format", "table")
	if code != 0 || !strings.Contains(out, "Reach inventory") || !strings.Contains(out, "Software") {
		t.Errorf("table: exit %d, stderr %q:\n%s", code, stderr, out)
	}
}

func TestDiagnose(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	code, out, stderr := runCmd(t, "diagnose", "-console", "http://"+ln.Addr().String(), "-format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	rep, err := inv.DecodeDiag([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Results {
		if r.Check == "console" && r.Status != inv.DiagOK {
			t.Errorf("console check: %+v", r)
		}
	}
	t.Setenv("REACH_CONSOLE_URL", "http://"+ln.Addr().String())
	code, out, _ = runCmd(t, "diagnose")
	if code != 0 || !strings.Contains(out, "OK  console") && !strings.Contains(strings.Join(strings.Fields(out), " "), "OK console") {
		t.Errorf("table with console from the environment: exit %d\n%s", code, out)
	}
}

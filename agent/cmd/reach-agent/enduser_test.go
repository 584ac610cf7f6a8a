package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestUIFlag(t *testing.T) {
	dir, _ := writeState(t)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"join", "-ui", "sometimes", "-state", dir, "123456789"}, 2, "-ui must be browser, terminal or auto"},
		{[]string{"join", "-ui", "terminal", "-state", dir}, 2, "session code"},
		{[]string{"serve", "-ui", "never", "-state", dir, "-relay", "ws://127.0.0.1:1"}, 1, "-ui must be"},
	} {
		var stdout, stderr bytes.Buffer
		got := run(context.Background(), tc.args, &stdout, &stderr)
		if got != tc.code || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, got, stderr.String(), tc.code, tc.want)
		}
	}
}

func TestBrowserAvailableNeedsADisplay(t *testing.T) {
	t.Setenv("DISPLAY", "")
	t.Setenv("WAYLAND_DISPLAY", "")
	if browserAvailable("") {
		t.Error("a browser is available without any display")
	}
}

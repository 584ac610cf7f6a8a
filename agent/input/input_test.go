package input_test

import (
	"context"
	"errors"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reachdesk/reach/agent/input"
	"github.com/reachdesk/reach/internal/xvfb"
	"github.com/reachdesk/reach/proto"
)

func TestOpenWithoutDisplayFails(t *testing.T) {
	_, err := input.Open(":97531")
	if !errors.Is(err, input.ErrNoDisplay) {
		t.Fatalf("Open(:97531) = %v, want ErrNoDisplay", err)
	}
}

// typingTerminal opens an xterm in the top-left corner whose shell copies
// what is typed into a file, and returns the file's path.
func typingTerminal(t *testing.T, x *xvfb.Server) string {
	out := filepath.Join(t.TempDir(), "typed")
	x.Client(t, "xterm", "-geometry", "80x24+0+0", "-e", "sh", "-c", "stty -echo; cat > "+out)
	x.WaitWindow(t, "xterm")
	return out
}

func waitFile(t *testing.T, path, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var got []byte
	for time.Now().Before(deadline) {
		got, _ = os.ReadFile(path)
		if strings.Contains(string(got), want) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("typed text = %q, want %q", got, want)
}

func TestPointerKeysAndText(t *testing.T) {
	x := xvfb.Start(t, xvfb.Options{})
	out := typingTerminal(t, x)
	in, err := input.Open(x.Display)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()

	if err := in.Move(image.Pt(123, 77)); err != nil {
		t.Fatal(err)
	}
	if p, err := in.Location(); err != nil || p != image.Pt(123, 77) {
		t.Fatalf("pointer at %v (%v), want (123,77)", p, err)
	}
	// Keys by KeyboardEvent.code, with Shift as a modifier; then text with
	// characters on the keymap, shifted ones, and one the keymap lacks.
	for _, k := range []struct {
		code  string
		shift bool
	}{{"KeyH", true}, {"KeyI", false}, {"Digit1", true}, {"Enter", false}} {
		if err := in.Key(k.code, true, proto.Modifiers{Shift: k.shift}); err != nil {
			t.Fatal(err)
		}
		if err := in.Key(k.code, false, proto.Modifiers{Shift: k.shift}); err != nil {
			t.Fatal(err)
		}
	}
	waitFile(t, out, "Hi!\n")
	start := time.Now()
	if err := in.Text("Typed: a-Z_09 {ok} é\n"); err != nil {
		t.Fatal(err)
	}
	t.Logf("typed 22 characters in %v", time.Since(start))
	waitFile(t, out, "Hi!\nTyped: a-Z_09 {ok} é\n")
	if err := in.Button("left", true); err != nil {
		t.Fatal(err)
	}
	if err := in.Button("left", false); err != nil {
		t.Fatal(err)
	}
	if err := in.Wheel(0, 250); err != nil {
		t.Fatal(err)
	}
	if err := in.Key("NoSuchKey", true, proto.Modifiers{}); !errors.Is(err, input.ErrUnknownKey) {
		t.Fatalf("unknown key: %v", err)
	}
}

func TestClipboardBetweenClients(t *testing.T) {
	x := xvfb.Start(t, xvfb.Options{})
	a, err := input.OpenClipboard(x.Display)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := input.OpenClipboard(x.Display)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	if err := a.Set("copied on the agent ✓"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-b.Changes():
	case <-ctx.Done():
		t.Fatal("b did not see the selection change")
	}
	got, err := b.Get(ctx)
	if err != nil || got != "copied on the agent ✓" {
		t.Fatalf("b.Get = %q, %v", got, err)
	}
	if err := b.Set("and back"); err != nil {
		t.Fatal(err)
	}
	if got, err := a.Get(ctx); err != nil || got != "and back" {
		t.Fatalf("a.Get = %q, %v", got, err)
	}
	if err := a.Set(strings.Repeat("x", proto.MaxClipboard+1)); !errors.Is(err, input.ErrClipboardTooLarge) {
		t.Fatalf("oversized Set = %v", err)
	}
}

package probe

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func TestRun(t *testing.T) {
	ctx := context.Background()
	out, err := Run(ctx, 1024, "sh", "-c", "echo hello; echo oops >&2")
	if err != nil || string(out) != "hello\n" {
		t.Fatalf("Run = %q, %v", out, err)
	}

	out, err = Run(ctx, 1024, "sh", "-c", "echo partial; echo 'first line\nsecond' >&2; exit 3")
	var exit *ExitError
	if !errors.As(err, &exit) || exit.Code != 3 || exit.Stderr != "first line" || string(out) != "partial\n" {
		t.Fatalf("Run = %q, %#v", out, err)
	}

	if _, err := Run(ctx, 1024, "reach-no-such-program"); !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("missing program: %v", err)
	}

	start := time.Now()
	if _, err := Run(ctx, 1024, "sh", "-c", "yes"); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("endless output: %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("output over limit did not stop the command")
	}

	ctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	start = time.Now()
	if _, err := Run(ctx, 1024, "sleep", "10"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("timeout: %v", err)
	}
	if time.Since(start) > 3*time.Second {
		t.Fatal("timeout did not kill the command")
	}
}

func TestRunUsesCLocale(t *testing.T) {
	out, err := Run(context.Background(), 1024, "sh", "-c", "echo $LC_ALL")
	if err != nil || strings.TrimSpace(string(out)) != "C" {
		t.Fatalf("LC_ALL = %q, %v", out, err)
	}
}

func TestReadFile(t *testing.T) {
	fsys := fstest.MapFS{"etc/hostname": {Data: []byte(" pc-042\n")}}
	if s, err := ReadString(fsys, "etc/hostname"); err != nil || s != "pc-042" {
		t.Fatalf("ReadString = %q, %v", s, err)
	}
	if _, err := ReadFile(fsys, "etc/hostname", 3); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("over limit: %v", err)
	}
	if _, err := ReadFile(fsys, "etc/missing", 3); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing: %v", err)
	}
	// Files that report size 0, like /proc, are still bounded.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("0123456789"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(os.DirFS(dir), "f", 9); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("over limit on disk: %v", err)
	}
}

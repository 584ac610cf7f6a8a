// Package probe runs the fixed, read-only commands and file reads that the
// inventory collectors and diagnostics are built on, each bounded in time
// (by its context) and in size. Nothing here takes a command from outside
// the agent: callers pass literal program names and arguments.
package probe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Errors.
var (
	// ErrNotInstalled: the program is not in PATH.
	ErrNotInstalled = errors.New("not installed")
	// ErrTooLarge: the output or file is over the caller's limit.
	ErrTooLarge = errors.New("output over limit")
)

// ExitError is a command that ran and exited with a non-zero status. Some
// tools (smartctl, systemctl is-active) report through the status, so Run
// returns their output alongside it.
type ExitError struct {
	Name   string
	Code   int
	Stderr string // first line of standard error
}

func (e *ExitError) Error() string {
	if e.Stderr == "" {
		return fmt.Sprintf("%s exited with status %d", e.Name, e.Code)
	}
	return fmt.Sprintf("%s exited with status %d: %s", e.Name, e.Code, e.Stderr)
}

// Installed reports whether name is in PATH.
func Installed(name string) bool {
	_, err := exec.LookPath(name)
	return err == nil
}

// Run runs the program name with args under ctx (killed when ctx ends), in
// the C locale, with no standard input, and returns at most limit bytes of
// its standard output. A program that is missing yields an error wrapping
// ErrNotInstalled; one that writes more than limit bytes is killed and
// yields ErrTooLarge; a non-zero exit yields its output and an *ExitError.
func Run(ctx context.Context, limit int, name string, args ...string) ([]byte, error) {
	path, err := exec.LookPath(name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, ErrNotInstalled)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C", "LANG=C")
	cmd.WaitDelay = time.Second // do not wait on grandchildren holding the pipes
	stdout := &capped{limit: limit, overflow: cancel}
	stderr := &capped{limit: 4096}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	err = cmd.Run()
	switch {
	case stdout.over:
		return nil, fmt.Errorf("%s: %w (%d bytes)", name, ErrTooLarge, limit)
	case ctx.Err() != nil && err != nil:
		return nil, fmt.Errorf("%s: %w", name, context.Cause(ctx))
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		line, _, _ := strings.Cut(strings.TrimSpace(stderr.buf.String()), "\n")
		return stdout.buf.Bytes(), &ExitError{Name: name, Code: exit.ExitCode(), Stderr: line}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return stdout.buf.Bytes(), nil
}

// capped keeps at most limit bytes; on overflow it calls overflow (if set)
// and fails the write so that the copy from the child stops.
type capped struct {
	buf      bytes.Buffer
	limit    int
	over     bool
	overflow func()
}

func (c *capped) Write(p []byte) (int, error) {
	if c.buf.Len()+len(p) > c.limit {
		if c.overflow == nil { // stderr: keep the head, drop the rest
			c.buf.Write(p[:max(0, c.limit-c.buf.Len())])
			return len(p), nil
		}
		c.over = true
		c.overflow()
		return 0, ErrTooLarge
	}
	return c.buf.Write(p)
}

// ReadFile reads name from fsys, failing with ErrTooLarge beyond limit bytes.
// Files under /proc and /sys report no size, so the limit is enforced while
// reading.
func ReadFile(fsys fs.FS, name string, limit int64) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("read %s: %w (%d bytes)", name, ErrTooLarge, limit)
	}
	return b, nil
}

// ReadString reads a small file (at most 64 KiB) and trims surrounding
// white space, as sysfs attributes need.
func ReadString(fsys fs.FS, name string) (string, error) {
	b, err := ReadFile(fsys, name, 64<<10)
	return strings.TrimSpace(string(b)), err
}

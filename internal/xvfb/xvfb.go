// Package xvfb starts throw-away Xvfb servers and X clients for tests and
// benchmarks that need a real X display.
//
// Nothing here skips: when Xvfb or a client program is missing the test
// fails with a message that says which Debian package provides it
// (scripts/setup.sh installs them all).
package xvfb

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startTimeout bounds how long Xvfb may take to accept connections.
const startTimeout = 15 * time.Second

// Options describe the screen of an Xvfb server.
type Options struct {
	// Width and Height of screen 0 in pixels; zero means 1280x720.
	Width, Height int
	// Depth in bits per pixel; zero means 24.
	Depth int
}

func (o Options) withDefaults() Options {
	if o.Width == 0 {
		o.Width = 1280
	}
	if o.Height == 0 {
		o.Height = 720
	}
	if o.Depth == 0 {
		o.Depth = 24
	}
	return o
}

// Server is a running Xvfb. It is stopped when the test that started it
// ends.
type Server struct {
	// Display is the value for $DISPLAY, e.g. ":42".
	Display string
	// Options are the options the server currently runs with.
	Options Options

	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// Start starts Xvfb on a free display number and stops it on tb.Cleanup.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	s := &Server{}
	if err := s.start("", opts); err != nil {
		tb.Fatalf("xvfb: %v", err)
	}
	tb.Cleanup(s.stop)
	return s
}

// Restart stops the server and starts a new one with opts on the same
// display number, as when an X session restarts with another resolution.
func (s *Server) Restart(tb testing.TB, opts Options) {
	tb.Helper()
	s.stop()
	if err := s.start(s.Display, opts); err != nil {
		tb.Fatalf("xvfb: restart: %v", err)
	}
}

// Pid returns the process id of the running Xvfb, e.g. to read its CPU
// time from /proc.
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Env returns the environment of the test process with DISPLAY set to s.
func (s *Server) Env() []string {
	env := make([]string, 0, len(os.Environ())+1)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DISPLAY=") {
			env = append(env, kv)
		}
	}
	return append(env, "DISPLAY="+s.Display)
}

// start runs Xvfb on display (":N"), or on a free display number when
// display is empty, and waits until it accepts connections.
func (s *Server) start(display string, opts Options) error {
	path, err := exec.LookPath("Xvfb")
	if err != nil {
		return fmt.Errorf("Xvfb is not installed (Debian package xvfb; run make setup): %w", err)
	}
	opts = opts.withDefaults()
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("displayfd pipe: %w", err)
	}
	defer r.Close()
	args := []string{
		"-displayfd", "3",
		"-screen", "0", fmt.Sprintf("%dx%dx%d", opts.Width, opts.Height, opts.Depth),
		"-nolisten", "tcp", "-noreset",
	}
	if display != "" {
		args = append([]string{display}, args...)
	}
	cmd := exec.Command(path, args...)
	cmd.ExtraFiles = []*os.File{w}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		w.Close()
		return fmt.Errorf("start Xvfb: %w", err)
	}
	w.Close()
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()

	number := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		number <- strings.TrimSpace(line)
	}()
	fail := func(why string) error {
		cmd.Process.Kill()
		<-done
		return fmt.Errorf("Xvfb %s: %s", why, strings.TrimSpace(stderr.String()))
	}
	select {
	case n := <-number:
		if _, err := strconv.Atoi(n); err != nil {
			return fail("did not report a display number")
		}
		s.Display = ":" + n
	case <-done:
		return fail("exited at start")
	case <-time.After(startTimeout):
		return fail("did not start within " + startTimeout.String())
	}
	s.Options, s.cmd, s.done = opts, cmd, done
	return nil
}

// stop terminates the server and waits for it to exit.
func (s *Server) stop() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
}

// Client starts an X client program on the display in its own process
// group and kills the group on tb.Cleanup.
func (s *Server) Client(tb testing.TB, name string, args ...string) *exec.Cmd {
	tb.Helper()
	cmd := s.command(tb, name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("xvfb: start %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()
	tb.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	})
	return cmd
}

// Run runs an X client program on the display to completion and returns
// its standard output; the test fails if the program fails.
func (s *Server) Run(tb testing.TB, name string, args ...string) string {
	tb.Helper()
	cmd := s.command(tb, name, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("xvfb: %s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out)
}

// WaitWindow waits until a visible window of the given WM_CLASS exists
// and returns its id.
func (s *Server) WaitWindow(tb testing.TB, class string) string {
	tb.Helper()
	deadline := time.Now().Add(startTimeout)
	for {
		cmd := s.command(tb, "xdotool", "search", "--onlyvisible", "--class", class)
		out, err := cmd.Output()
		if ids := strings.Fields(string(out)); err == nil && len(ids) > 0 {
			return ids[0]
		}
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			tb.Fatalf("xvfb: xdotool: %v", err)
		}
		if time.Now().After(deadline) {
			tb.Fatalf("xvfb: no visible window of class %q after %v", class, startTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// command prepares name to run on the display; the test fails when the
// program is not installed.
func (s *Server) command(tb testing.TB, name string, args ...string) *exec.Cmd {
	tb.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		tb.Fatalf("xvfb: %s is not installed (%s; run make setup): %v", name, debianPackage(name), err)
	}
	cmd := exec.Command(path, args...)
	cmd.Env = s.Env()
	return cmd
}

// debianPackage names the Debian package that provides an X client.
func debianPackage(name string) string {
	switch name {
	case "xdotool", "xterm":
		return "Debian package " + name
	case "xrandr", "xsetroot":
		return "Debian package x11-xserver-utils"
	default:
		return "Debian package x11-apps or similar"
	}
}

package xvfb

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jezek/xgb/xproto"
)

// settle is how long scenes wait for freshly mapped clients to draw.
const settle = 500 * time.Millisecond

// terminalArgs start an xterm covering the screen, with a modern font.
var terminalArgs = []string{"-maximized", "-fa", "DejaVu Sans Mono", "-fs", "10"}

// Scene is a kind of screen content that benchmarks compare.
type Scene struct {
	Name  string
	Start func(s *Server, tb testing.TB)
}

// Scenes are the benchmark scenes: an idle desktop, a terminal scrolling
// 100 lines a second, and full-screen motion at 30 frames a second.
var Scenes = []Scene{
	{"idle", (*Server).IdleDesktop},
	{"scrolling", func(s *Server, tb testing.TB) { s.ScrollingTerminal(tb, 100) }},
	{"motion", func(s *Server, tb testing.TB) { s.FullScreenMotion(tb, 30) }},
}

// IdleDesktop paints a wallpaper and opens a terminal showing a
// directory listing and the X logo; after it returns nothing changes.
func (s *Server) IdleDesktop(tb testing.TB) {
	tb.Helper()
	p := s.Painter(tb)
	p.put(xproto.Drawable(p.root), p.Bounds.Dx(), p.Bounds.Dy(), wallpaper(p.Bounds.Dx(), p.Bounds.Dy()))
	if err := p.sync(); err != nil {
		tb.Fatalf("xvfb: wallpaper: %v", err)
	}
	s.Client(tb, "xterm", "-geometry", "100x40+80+60", "-fa", "DejaVu Sans Mono", "-fs", "10",
		"-e", "sh", "-c", "ls -l /usr/bin | head -38; exec sleep 1000000")
	s.Client(tb, "xlogo", "-geometry", "300x300+1000+200")
	s.WaitWindow(tb, "xterm")
	s.WaitWindow(tb, "xlogo")
	time.Sleep(settle)
}

// ScrollingTerminal opens an xterm covering the screen and writes
// linesPerSecond lines of a long directory listing to it until the test
// ends, like a build log or `journalctl -f`.
func (s *Server) ScrollingTerminal(tb testing.TB, linesPerSecond int) {
	tb.Helper()
	fifo := filepath.Join(tb.TempDir(), "terminal")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		tb.Fatalf("xvfb: terminal fifo: %v", err)
	}
	s.Client(tb, "xterm", append(terminalArgs, "-e", "cat", fifo)...)
	s.WaitWindow(tb, "xterm")
	// O_RDWR does not wait for cat to open the other end.
	w, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		tb.Fatalf("xvfb: terminal fifo: %v", err)
	}
	// Fill the screen before the test starts, so that every line shown
	// scrolls from the first frame on.
	const prefill = 100
	for i := range prefill {
		if _, err := fmt.Fprintln(w, listingLine(i)); err != nil {
			tb.Fatalf("xvfb: terminal: %v", err)
		}
	}
	time.Sleep(settle)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(time.Second / time.Duration(linesPerSecond))
		defer tick.Stop()
		for i := prefill; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if _, err := fmt.Fprintln(w, listingLine(i)); err != nil {
				return
			}
		}
	})
	tb.Cleanup(func() {
		close(stop)
		wg.Wait()
		w.Close()
	})
}

// FullScreenMotion repaints the whole screen fps times a second until the
// test ends; see Painter.Animate.
func (s *Server) FullScreenMotion(tb testing.TB, fps int) {
	tb.Helper()
	s.Painter(tb).Animate(tb, fps)
}

var listingNames = []string{
	"apt-get", "bash", "cat", "chmod", "dpkg-query", "gcc-12", "git", "gzip", "journalctl",
	"ls", "make", "perl5.36.0", "python3.11", "sha256sum", "systemctl", "tar", "xterm", "Xvfb",
}

// listingLine is line i of an endless, plausible `ls -l`.
func listingLine(i int) string {
	return fmt.Sprintf("-rwxr-xr-x 1 root root %9d %s %2d %02d:%02d %s-%d",
		(i*7919)%4_000_000, [...]string{"Jan", "Mar", "Jun", "Oct"}[i%4], i%28+1, i%24, (i*7)%60,
		listingNames[i%len(listingNames)], i)
}

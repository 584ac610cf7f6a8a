package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sync/atomic"
	"time"

	"github.com/reachdesk/reach/agent/consent"
	"github.com/reachdesk/reach/agent/enduser"
	"github.com/reachdesk/reach/agent/session"
)

// ReportCSAT delivers the end user's 1–5 answer for session sid to the
// console (through the agent's event outbox, which sends it to
// /agent/v1/events keyed by the relay session id). Nil until the outbox is
// wired in: answers are then only logged.
var ReportCSAT func(ctx context.Context, sid string, score int) error

// uiFlags choose how the end user is asked and informed.
type uiFlags struct {
	mode string
	open bool
}

func (u *uiFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&u.mode, "ui", "auto", "how to ask the end user: browser (a page on 127.0.0.1, opened with xdg-open when present), "+
		"terminal, or auto (browser when a display and xdg-open are there and answers are not piped in)")
	fs.BoolVar(&u.open, "open", true, "in browser mode, open the page with xdg-open (the address is printed either way)")
}

// resolve returns the UI to use, browser or terminal, for -ui.
func (u *uiFlags) resolve(display string) (string, error) {
	switch u.mode {
	case "auto":
		if browserAvailable(display) && !stdinPiped() {
			return "browser", nil
		}
		return "terminal", nil
	case "browser", "terminal":
		return u.mode, nil
	}
	return "", fmt.Errorf("-ui must be browser, terminal or auto, not %q", u.mode)
}

// endUser is the end user's side of one agent run: a terminal prompt, or
// the browser page with its server.
type endUser struct {
	page     *enduser.Server // nil on the terminal
	srv      *http.Server
	prompter consent.Prompter
	status   func(session.Status)
	chat     func(sid, text string)
}

// start sets up the end user's UI. In browser mode join (may be nil) lets
// the page take the session code; agent is read when the page acts on a
// session, once the agent exists.
func (u *uiFlags) start(display string, join func(ctx context.Context, code string) error, agent *atomic.Pointer[session.Agent], stdout, stderr io.Writer) (*endUser, error) {
	mode, err := u.resolve(display)
	if err != nil {
		return nil, err
	}
	if mode == "terminal" {
		return &endUser{prompter: consent.NewTerminal(stdin, stdout), status: printStatus(stdout)}, nil
	}
	log := logger(stderr)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("end-user page: %w", err)
	}
	page, err := enduser.New(l.Addr().String(), enduser.Options{
		Join: join,
		Lookup: func(sid string) enduser.Controller {
			a := agent.Load()
			if a == nil {
				return nil
			}
			for _, s := range a.Sessions() {
				if s.ID() == sid {
					return s
				}
			}
			return nil
		},
		OnCSAT: func(sid string, score int) { reportCSAT(log, sid, score) },
		Logger: log,
	})
	if err != nil {
		l.Close()
		return nil, err
	}
	srv := &http.Server{Handler: page, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
	go srv.Serve(l)
	fmt.Fprintf(stdout, "Reach remote support: open %s in your browser.\n", page.URL())
	if u.open && browserAvailable(display) {
		openBrowser(page.LaunchURL(), display, log)
	}
	terminal := printStatus(stdout)
	return &endUser{
		page: page, srv: srv, prompter: page,
		status: func(st session.Status) { page.Status(st); terminal(st) },
		chat:   page.Chat,
	}, nil
}

// waitCSAT gives the end user time to rate session sid in the page, if one
// follows the session.
func (e *endUser) waitCSAT(ctx context.Context, sid string) {
	if e.page == nil || !e.page.Followed() {
		return
	}
	e.page.WaitCSAT(ctx, sid)
}

// close stops the page's server.
func (e *endUser) close() {
	if e.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := e.srv.Shutdown(ctx); err != nil {
		e.srv.Close()
	}
}

func reportCSAT(log *slog.Logger, sid string, score int) {
	if ReportCSAT == nil {
		log.Warn("csat: no outbox to send the rating to the console", "sid", sid, "score", score)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ReportCSAT(ctx, sid, score); err != nil {
		log.Warn("csat: not queued", "sid", sid, "err", err)
	}
}

// browserAvailable reports whether xdg-open can show a page on a display.
func browserAvailable(display string) bool {
	if display == "" && os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		return false
	}
	_, err := exec.LookPath("xdg-open")
	return err == nil
}

// stdinPiped reports whether answers come from a pipe or file (a script),
// which the terminal prompt serves better than a browser.
func stdinPiped() bool {
	f, ok := stdin.(*os.File)
	if !ok {
		return true
	}
	fi, err := f.Stat()
	return err != nil || fi.Mode()&(os.ModeNamedPipe|os.ModeType) == os.ModeNamedPipe || fi.Mode().IsRegular()
}

// openBrowser opens url with xdg-open on display, without waiting for the
// browser; failures are logged (the URL was printed).
func openBrowser(url, display string, log *slog.Logger) {
	cmd := exec.Command("xdg-open", url)
	cmd.Env = os.Environ()
	if display != "" {
		cmd.Env = append(cmd.Env, "DISPLAY="+display)
	}
	if err := cmd.Start(); err != nil {
		log.Warn("could not open the browser", "err", err)
		return
	}
	go func() {
		if err := cmd.Wait(); err != nil && !errors.Is(err, exec.ErrWaitDelay) {
			log.Info("xdg-open failed; open the printed address by hand", "err", err)
		}
	}()
}

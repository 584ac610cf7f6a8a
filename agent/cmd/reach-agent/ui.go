package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/reachdesk/reach/agent/consent"
	"github.com/reachdesk/reach/agent/enduser"
	"github.com/reachdesk/reach/agent/session"
	"github.com/reachdesk/reach/agent/uibridge"
	"github.com/reachdesk/reach/proto"
)

// runUI is the signed-in user's side of the installed service: it attaches
// to the service's socket (agent/uibridge) and shows its consent
// questions, the session indicator with Stop and revoke, chat and the
// rating question in the end-user page (opened with xdg-open when
// something needs the user) or on the terminal. An XDG autostart entry
// starts it in every graphical session.
func runUI(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ui", "[flags]", stderr)
	socket := fs.String("socket", uibridge.DefaultSocket, "the agent service's Unix socket")
	display := fs.String("display", "", "X display the page opens on (default $DISPLAY)")
	var ui uiFlags
	ui.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	mode, err := ui.resolve(*display)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return errUsage
	}
	log := logger(stderr)
	var client atomic.Pointer[uibridge.Client]
	var h uibridge.Handler
	if mode == "terminal" {
		h = &terminalUI{prompter: consent.NewTerminal(stdin, stdout), status: printStatus(stdout), out: stdout}
	} else {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("end-user page: %w", err)
		}
		page, err := enduser.New(l.Addr().String(), enduser.Options{
			Lookup: func(sid string) enduser.Controller {
				if c := client.Load(); c != nil {
					return remoteSession{c: c, sid: sid}
				}
				return nil
			},
			OnCSAT: func(sid string, score int) {
				if err := client.Load().CSAT(sid, score); err != nil {
					log.Warn("rating not sent", "err", err)
				}
			},
			Logger: log,
		})
		if err != nil {
			l.Close()
			return err
		}
		srv := &http.Server{Handler: page, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
		go srv.Serve(l)
		defer srv.Close()
		fmt.Fprintf(stdout, "Reach remote support: questions and sessions show at %s\n", page.URL())
		h = &pageUI{page: page, open: ui.open && browserAvailable(*display), display: *display, log: log}
	}
	c := uibridge.NewClient(*socket, h, uibridge.ClientOptions{Logger: log})
	client.Store(c)
	if err := c.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// remoteSession acts on a session of the service through the bridge.
type remoteSession struct {
	c   *uibridge.Client
	sid string
}

func (r remoteSession) Stop()                      { r.c.Stop(r.sid) }
func (r remoteSession) Revoke()                    { r.c.Revoke(r.sid) }
func (r remoteSession) SendChat(text string) error { return r.c.SendChat(r.sid, text) }

// pageUI shows the bridge in the end-user page.
type pageUI struct {
	page    *enduser.Server
	open    bool
	display string
	log     *slog.Logger
}

func (p *pageUI) Ask(ctx context.Context, pr *uibridge.Prompt) (proto.Decision, error) {
	p.show()
	return p.page.Ask(ctx, pr.Request())
}

func (p *pageUI) Status(st uibridge.Status) {
	p.page.Status(sessionStatus(st))
	if st.State == string(session.StateActive) {
		p.show() // an unattended session allowed by policy must be visible too
	}
}

func (p *pageUI) Chat(sid, from, text string) {
	if from == "technician" {
		p.page.Chat(sid, text)
	}
}

func (p *pageUI) Attached(ok bool) {
	if ok {
		p.log.Info("attached to the Reach agent service")
	}
}

// show opens the page unless one already follows the state.
func (p *pageUI) show() {
	if p.open && p.page.Clients() == 0 {
		openBrowser(p.page.NewLaunchURL(), p.display, p.log)
	}
}

// terminalUI shows the bridge on a terminal.
type terminalUI struct {
	prompter consent.Prompter
	status   func(session.Status)
	out      io.Writer
}

func (t *terminalUI) Ask(ctx context.Context, pr *uibridge.Prompt) (proto.Decision, error) {
	return t.prompter.Ask(ctx, pr.Request())
}

func (t *terminalUI) Status(st uibridge.Status) { t.status(sessionStatus(st)) }

func (t *terminalUI) Chat(sid, from, text string) {
	if from == "technician" {
		fmt.Fprintf(t.out, "Technician: %s\n", sanitizeLine(text))
	}
}

func (t *terminalUI) Attached(ok bool) {
	if ok {
		fmt.Fprintln(t.out, "Connected to the Reach agent: remote-support questions will show here.")
	} else {
		fmt.Fprintln(t.out, "The Reach agent is not reachable; retrying.")
	}
}

// sanitizeLine drops control characters from a technician's text.
func sanitizeLine(s string) string {
	out := []rune{}
	for _, r := range s {
		if r >= 0x20 && r != 0x7f && (r < 0x80 || r >= 0xa0) {
			out = append(out, r)
		}
	}
	return string(out)
}

func sessionStatus(st uibridge.Status) session.Status {
	s := session.Status{SID: st.SID, State: session.State(st.State), Technician: st.Technician, Ticket: st.Ticket,
		Permissions: st.Permissions, Reason: st.Reason}
	if st.Failed {
		s.Err = errors.New(st.Reason)
	}
	return s
}

func bridgeStatus(st session.Status) uibridge.Status {
	return uibridge.Status{SID: st.SID, State: string(st.State), Technician: st.Technician, Ticket: st.Ticket,
		Permissions: st.Permissions, Reason: st.Reason, Failed: st.Err != nil}
}

// startBridge is serve's -ui bridge: the end user is whoever is signed in
// to the shared display and runs `reach-agent ui`; the service listens for
// them on socket until ctx ends.
func startBridge(ctx context.Context, socket, display string, agent *atomic.Pointer[session.Agent], stderr io.Writer) (*endUser, error) {
	log := logger(stderr)
	if display == "" {
		display = os.Getenv("DISPLAY")
	}
	l, err := uibridge.Listen(socket)
	if err != nil {
		return nil, err
	}
	svc := uibridge.NewService(uibridge.ServiceOptions{
		Authorize: uibridge.SeatAuthorizer(display, uibridge.LogindSessions, os.Getenv("XAUTHORITY")),
		Lookup: func(sid string) uibridge.Controller {
			if a := agent.Load(); a != nil {
				for _, s := range a.Sessions() {
					if s.ID() == sid {
						return s
					}
				}
			}
			return nil
		},
		OnCSAT: func(sid string, score int) { reportCSAT(log, sid, score) },
		Logger: log,
	})
	go func() {
		if err := svc.Serve(l); err != nil && !errors.Is(err, uibridge.ErrClosed) {
			log.Error("consent bridge stopped", "err", err)
		}
	}()
	context.AfterFunc(ctx, func() { svc.Close() })
	return &endUser{
		prompter: svc,
		status:   func(st session.Status) { svc.Status(bridgeStatus(st)) },
		chat:     svc.Chat,
	}, nil
}

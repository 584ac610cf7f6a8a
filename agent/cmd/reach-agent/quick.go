package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/reachdesk/reach/agent/consent"
	"github.com/reachdesk/reach/agent/session"
	"github.com/reachdesk/reach/internal/envflag"
	"github.com/reachdesk/reach/proto"
	wire "github.com/reachdesk/reach/proto/agentapi"
)

// runQuick gives one attended session without installing or enrolling:
// the end user enters the technician's code, the agent makes an ephemeral
// key that lives only in memory, registers it with the console for that
// code, joins the session and exits. Nothing is written to disk.
func runQuick(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("quick", "-server URL [CODE]", stderr)
	var (
		server  = fs.String("server", "", "console URL, e.g. https://help.example.com (required)")
		relay   = fs.String("relay", "", "relay URL; default: the one the console names")
		display = fs.String("display", "", "X display to share (default $DISPLAY)")
		fps     = fs.Int("fps", 30, "highest video frame rate")
	)
	var ui uiFlags
	ui.register(fs)
	if err := envflag.Parse(fs, "REACH_AGENT", args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	mode, err := ui.resolve(*display)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return errUsage
	}
	if fs.NArg() > 1 {
		fs.Usage()
		return errUsage
	}
	if err := checkQuickServer(*server); err != nil {
		fmt.Fprintln(stderr, err)
		return errUsage
	}
	q := &quick{
		server: strings.TrimSuffix(*server, "/"), relay: *relay,
		client: &http.Client{Timeout: 30 * time.Second},
		ui:     newLateUI(),
	}
	q.opts = session.Options{Display: *display, FPS: *fps, Logger: logger(stderr), OnStatus: q.ui.status, OnChat: q.ui.chat}
	// Keys for this run only: generated in memory, never written.
	if _, q.key, err = ed25519.GenerateKey(rand.Reader); err != nil {
		return err
	}
	// The relay connection outlives an interrupt long enough to tell the
	// technician that the end user stopped the session.
	q.runCtx, q.cancel = context.WithCancel(context.WithoutCancel(ctx))
	defer q.close()

	code := normalizeCode(fs.Arg(0))
	var s *session.Session
	if code == "" && mode == "terminal" {
		// Ask, register and join before the consent prompt starts reading
		// the terminal (the prompter waits for it); a code that the console
		// or the relay refuses may be typed again.
		for s == nil {
			if code, err = askCode(ctx, stdin, stdout); err != nil {
				return fmt.Errorf("quick: %w", err)
			}
			if s, err = q.join(ctx, code); errors.Is(err, errBadCode) {
				fmt.Fprintln(stdout, err)
			} else if err != nil {
				return fmt.Errorf("quick: %w", err)
			}
		}
	} else if code != "" {
		if s, err = q.join(ctx, code); err != nil {
			return fmt.Errorf("quick: %w", err)
		}
	}

	// Without a code yet, the end-user page asks for it: this is the hook
	// its code form calls.
	joined := make(chan *session.Session, 1)
	var pageJoin func(ctx context.Context, code string) error
	if s == nil {
		pageJoin = func(ctx context.Context, code string) error {
			s, err := q.join(ctx, normalizeCode(code))
			if err == nil {
				joined <- s
			}
			return err
		}
	}
	eu, err := ui.start(*display, pageJoin, &q.agent, stdout, stderr)
	if err != nil {
		return err
	}
	defer eu.close()
	q.ui.set(eu)

	if s == nil {
		select {
		case s = <-joined:
		case <-ctx.Done():
			return fmt.Errorf("quick: %w", ctx.Err())
		}
	}
	select {
	case <-s.Done():
	case <-ctx.Done():
		s.Stop()
		<-s.Done()
	}
	eu.waitCSAT(ctx, s.ID())
	return s.Err()
}

// lateUI hands the end user's UI to an agent created before the UI: the
// consent prompt waits until it is there (within the request's timeout),
// status and chat before it are dropped (the terminal shows them anyway).
type lateUI struct {
	ready chan struct{}
	eu    *endUser // set once, before ready is closed
}

func newLateUI() *lateUI { return &lateUI{ready: make(chan struct{})} }

func (l *lateUI) set(eu *endUser) { l.eu = eu; close(l.ready) }

func (l *lateUI) get() *endUser {
	select {
	case <-l.ready:
		return l.eu
	default:
		return nil
	}
}

// Ask implements consent.Prompter.
func (l *lateUI) Ask(ctx context.Context, r consent.Request) (proto.Decision, error) {
	select {
	case <-l.ready:
		return l.eu.prompter.Ask(ctx, r)
	case <-ctx.Done():
		return proto.DecisionDeny, ctx.Err()
	}
}

func (l *lateUI) status(st session.Status) {
	if eu := l.get(); eu != nil {
		eu.status(st)
	}
}

func (l *lateUI) chat(sid, text string) {
	if eu := l.get(); eu != nil && eu.chat != nil {
		eu.chat(sid, text)
	}
}

// quick is one quick-support run.
type quick struct {
	server, relay string
	client        *http.Client
	key           ed25519.PrivateKey
	opts          session.Options
	ui            *lateUI
	agent         atomic.Pointer[session.Agent]
	runCtx        context.Context
	cancel        context.CancelFunc

	mu   sync.Mutex // guards done, runCtx and cancel
	done chan error // the agent's Run result; nil while no agent runs
}

// errBadCode is a code the console refused; the user may type it again.
var errBadCode = errors.New("that code is invalid or has expired; check it with your technician")

// join registers the ephemeral key for code with the console, starts an
// agent with the relay token the console gave, and redeems the code.
func (q *quick) join(ctx context.Context, code string) (*session.Session, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.done != nil {
		return nil, errors.New("a session is already being joined")
	}
	reg, err := q.register(ctx, code)
	if err != nil {
		return nil, err
	}
	keys := make([]ed25519.PublicKey, 0, len(reg.ConsoleKeys))
	for _, k := range reg.ConsoleKeys {
		b, err := wire.DecodeKey(k)
		if err != nil {
			return nil, errors.New("the console sent a malformed public key")
		}
		keys = append(keys, b)
	}
	if len(keys) == 0 {
		return nil, errors.New("the console sent no public key")
	}
	relayURL := q.relay
	if relayURL == "" {
		relayURL = reg.RelayURL
	}
	if relayURL == "" {
		return nil, errors.New("the console names no relay: give -relay")
	}
	relayURL = strings.TrimSuffix(relayURL, "/")
	if !strings.HasSuffix(relayURL, "/v1/agent") {
		relayURL += "/v1/agent"
	}
	token := reg.Token
	a, err := session.New(session.Config{
		RelayURL: relayURL, Token: func(context.Context) (string, error) { return token, nil },
		DeviceKey: q.key, ConsoleKeys: keys, Policy: consent.PolicyDeny, Prompter: q.ui,
	}, q.opts)
	if err != nil {
		return nil, err
	}
	q.agent.Store(a)
	q.done = make(chan error, 1)
	go func(done chan error) { done <- a.Run(q.runCtx) }(q.done)
	s, err := a.Join(ctx, code)
	if err != nil {
		// Let the user try again with a fresh agent.
		q.stopLocked()
		if proto.CodeOf(err) == proto.CodeInvalidCode {
			return nil, errBadCode
		}
		return nil, fmt.Errorf("join: %w", err)
	}
	return s, nil
}

// register posts the ephemeral public key for code to the console.
func (q *quick) register(ctx context.Context, code string) (*wire.QuickResponse, error) {
	if len(code) != 9 || strings.Trim(code, "0123456789") != "" {
		return nil, errBadCode
	}
	body, _ := json.Marshal(wire.QuickRequest{Code: code, PublicKey: wire.EncodeKey(q.key.Public().(ed25519.PublicKey))})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, q.server+wire.PathQuick, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := q.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reach the console: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusGone:
		return nil, errBadCode
	case resp.StatusCode == http.StatusTooManyRequests:
		return nil, errors.New("too many attempts; wait a few minutes and try again")
	case resp.StatusCode/100 != 2:
		var e struct {
			Error struct{ Message string } `json:"error"`
		}
		json.Unmarshal(b, &e)
		if e.Error.Message == "" {
			e.Error.Message = resp.Status
		}
		return nil, fmt.Errorf("console refused the quick-support key: %.200s", e.Error.Message)
	}
	var r wire.QuickResponse
	if err := json.Unmarshal(b, &r); err != nil || r.Token == "" {
		return nil, errors.New("console: malformed answer to the quick-support key")
	}
	return &r, nil
}

// close stops the agent, if one runs.
func (q *quick) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.stopLocked()
	q.cancel()
}

func (q *quick) stopLocked() {
	if q.done == nil {
		return
	}
	q.cancel()
	<-q.done
	q.done = nil
	q.agent.Store(nil)
	q.runCtx, q.cancel = context.WithCancel(context.Background())
}

// checkQuickServer wants https, or http only to this machine: the
// console's answer decides whom the end user's screen is shown to.
func checkQuickServer(s string) error {
	if s == "" {
		return errors.New("-server is required: your help desk's console URL")
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return fmt.Errorf("-server %q is not a URL", s)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if ip := net.ParseIP(u.Hostname()); (ip != nil && ip.IsLoopback()) || u.Hostname() == "localhost" {
			return nil
		}
	}
	return fmt.Errorf("-server must be an https:// URL (http:// only to this machine), not %q", s)
}

// normalizeCode drops the spaces and dashes people type in codes.
func normalizeCode(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(strings.TrimSpace(s), " ", ""), "-", "")
}

// askCode asks for the session code on the terminal. It reads byte by
// byte, so the consent prompt that reads the same input later misses
// nothing.
func askCode(ctx context.Context, in io.Reader, out io.Writer) (string, error) {
	for {
		fmt.Fprint(out, "Session code from your technician: ")
		var line []byte
		b := make([]byte, 1)
		for {
			if ctx.Err() != nil {
				return "", ctx.Err()
			}
			n, err := in.Read(b)
			if n == 1 {
				if b[0] == '\n' {
					break
				}
				if len(line) < 64 {
					line = append(line, b[0])
				}
			}
			if err != nil {
				if errors.Is(err, io.EOF) && len(line) > 0 {
					break
				}
				return "", fmt.Errorf("no session code entered: %w", err)
			}
		}
		if code := normalizeCode(string(line)); code != "" {
			return code, nil
		}
	}
}

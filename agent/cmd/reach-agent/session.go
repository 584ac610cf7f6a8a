package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/reachdesk/reach/agent/consent"
	"github.com/reachdesk/reach/agent/session"
	"github.com/reachdesk/reach/agent/uibridge"
	"github.com/reachdesk/reach/internal/envflag"
	"github.com/reachdesk/reach/proto"
)

// stdin is where the terminal consent prompt reads answers.
var stdin io.Reader = os.Stdin

// Files of the device identity in the state directory, until enrollment
// writes them.
const (
	deviceKeyFile   = "device.key"   // Ed25519 private key, PKCS #8 PEM
	deviceTokenFile = "device.token" // the device's relay token
	consolePubFile  = "console.pub"  // the console's public key(s), PEM
)

// sessionFlags are the flags join and serve share.
type sessionFlags struct {
	state, relay, display string
	fps                   int
}

func (f *sessionFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.state, "state", "/var/lib/reach-agent", "state directory holding "+deviceKeyFile+", "+deviceTokenFile+" and "+consolePubFile)
	fs.StringVar(&f.relay, "relay", "", "relay URL, e.g. wss://relay.example.com (the agent endpoint /v1/agent is added)")
	fs.StringVar(&f.display, "display", "", "X display to share (default $DISPLAY)")
	fs.IntVar(&f.fps, "fps", 30, "highest video frame rate")
}

// config loads the device identity from the state directory. The token is
// read again at every connection, so a renewed token is picked up.
func (f *sessionFlags) config() (session.Config, error) {
	if f.relay == "" {
		f.relay = enrolledRelay(f.state)
	}
	if f.relay == "" {
		return session.Config{}, errors.New("-relay is required")
	}
	keyPEM, err := os.ReadFile(filepath.Join(f.state, deviceKeyFile))
	if err != nil {
		return session.Config{}, fmt.Errorf("read device key: %w", err)
	}
	key, err := proto.ParsePrivateKey(keyPEM)
	if err != nil {
		return session.Config{}, fmt.Errorf("%s: %w", deviceKeyFile, err)
	}
	pubPEM, err := os.ReadFile(filepath.Join(f.state, consolePubFile))
	if err != nil {
		return session.Config{}, fmt.Errorf("read console key: %w", err)
	}
	pubs, err := proto.ParsePublicKeys(pubPEM)
	if err != nil || len(pubs) == 0 {
		return session.Config{}, fmt.Errorf("%s: no Ed25519 public key (%v)", consolePubFile, err)
	}
	tokenPath := filepath.Join(f.state, deviceTokenFile)
	if _, err := os.Stat(tokenPath); err != nil {
		return session.Config{}, fmt.Errorf("device token: %w", err)
	}
	url := strings.TrimSuffix(f.relay, "/")
	if !strings.HasSuffix(url, "/v1/agent") {
		url += "/v1/agent"
	}
	return session.Config{
		RelayURL: url,
		Token: func(context.Context) (string, error) {
			b, err := os.ReadFile(tokenPath)
			if err != nil {
				return "", fmt.Errorf("read device token: %w", err)
			}
			return strings.TrimSpace(string(b)), nil
		},
		DeviceKey:   key,
		ConsoleKeys: pubs,
	}, nil
}

// runJoin redeems a session code for attended support, asking the end user
// on this terminal.
func runJoin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("join", "[flags] [CODE]", stderr)
	var f sessionFlags
	f.register(fs)
	var ui uiFlags
	ui.register(fs)
	if err := envflag.Parse(fs, "REACH_AGENT", args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	mode, err := ui.resolve(f.display)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return errUsage
	}
	if fs.NArg() > 1 || fs.NArg() == 0 && mode == "terminal" {
		fmt.Fprintln(stderr, "join needs the session code the technician gave you")
		fs.Usage()
		return errUsage
	}
	code := strings.ReplaceAll(strings.ReplaceAll(fs.Arg(0), " ", ""), "-", "")
	cfg, err := f.config()
	if err != nil {
		return err
	}
	// Without a code on the command line, the end-user page asks for it.
	var agent atomic.Pointer[session.Agent]
	joined := make(chan *session.Session, 1)
	var pageJoin func(ctx context.Context, code string) error
	if code == "" {
		pageJoin = func(ctx context.Context, code string) error {
			a := agent.Load()
			if a == nil {
				return session.ErrNotConnected
			}
			s, err := a.Join(ctx, code)
			if err == nil {
				joined <- s
			}
			return err
		}
	}
	eu, err := ui.start(f.display, pageJoin, &agent, stdout, stderr)
	if err != nil {
		return err
	}
	defer eu.close()
	// An enrolled device sends the session's events and the end user's
	// rating to the console (no command polling for a one-off session).
	rp, err := startReporting(ctx, f.state, &reportFlags{pollWait: -1}, logger(stderr))
	if err != nil {
		return err
	}
	defer rp.stop()
	cfg.Policy = consent.PolicyDeny
	cfg.Prompter = eu.prompter
	// The relay connection outlives an interrupt long enough to tell the
	// technician that the end user stopped the session.
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	a, err := session.New(cfg, session.Options{Display: f.display, FPS: f.fps, Logger: logger(stderr),
		OnStatus: chainStatus(eu.status, rp.status), OnChat: chainChat(eu.chat, rp.chat)})
	if err != nil {
		return err
	}
	agent.Store(a)
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx) }()
	var s *session.Session
	if code != "" {
		s, err = a.Join(ctx, code)
	} else {
		select {
		case s = <-joined:
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	if err != nil {
		cancel()
		<-done
		return fmt.Errorf("join: %w", err)
	}
	select {
	case <-s.Done():
	case <-ctx.Done():
		s.Stop()
		<-s.Done()
	}
	eu.waitCSAT(ctx, s.ID())
	if rp != nil {
		// Deliver the session log and rating now; what cannot go stays
		// queued on disk for the next start.
		fctx, fcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		if err := rp.rep.Flush(fctx); err != nil {
			logger(stderr).Warn("session events queued for later", "err", err)
		}
		fcancel()
	}
	cancel()
	<-done
	return s.Err()
}

// runServe stays connected for unattended connects, answered by -policy.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", "[flags]", stderr)
	var f sessionFlags
	f.register(fs)
	policy := fs.String("policy", "ask", "unattended connects: deny, ask (the logged-in user, see -ui), view or control")
	var ui uiFlags
	ui.register(fs)
	fs.Lookup("ui").Usage += "; serve also takes bridge: ask the user signed in to the display through their `reach-agent ui` (the installed service's mode)"
	uiSocket := fs.String("ui-socket", uibridge.DefaultSocket, "with -ui bridge, the Unix socket the signed-in user's reach-agent ui attaches to")
	var rf reportFlags
	rf.register(fs)
	if err := envflag.Parse(fs, "REACH_AGENT", args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	p, err := consent.ParsePolicy(*policy)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return errUsage
	}
	cfg, err := f.config()
	if err != nil {
		return err
	}
	var agent atomic.Pointer[session.Agent]
	var eu *endUser
	if ui.mode == "bridge" {
		eu, err = startBridge(ctx, *uiSocket, f.display, &agent, stderr)
	} else {
		eu, err = ui.start(f.display, nil, &agent, stdout, stderr)
	}
	if err != nil {
		return err
	}
	defer eu.close()
	rp, err := startReporting(ctx, f.state, &rf, logger(stderr))
	if err != nil {
		return err
	}
	defer rp.stop()
	cfg.Policy = p
	cfg.Prompter = eu.prompter
	a, err := session.New(cfg, session.Options{Display: f.display, FPS: f.fps, Logger: logger(stderr),
		OnStatus: chainStatus(eu.status, rp.status), OnChat: chainChat(eu.chat, rp.chat)})
	if err != nil {
		return err
	}
	agent.Store(a)
	if err := a.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// printStatus shows session changes to the end user.
func printStatus(w io.Writer) func(session.Status) {
	return func(s session.Status) {
		switch s.State {
		case session.StateActive:
			fmt.Fprintf(w, "Session active: %s can %s. Press Ctrl+C to stop.\n", s.Technician.Name, describe(s.Permissions))
		case session.StateEnded:
			msg := "Session ended"
			if s.Reason != "" {
				msg += ": " + s.Reason
			}
			fmt.Fprintln(w, msg)
		}
	}
}

func describe(ps []proto.Permission) string {
	if proto.HasPermission(ps, proto.PermControl) {
		return "see and control your screen"
	}
	return "see your screen"
}

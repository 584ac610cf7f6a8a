package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/reachdesk/reach/agent/diag"
	"github.com/reachdesk/reach/agent/enroll"
	"github.com/reachdesk/reach/agent/inventory"
	"github.com/reachdesk/reach/agent/report"
	"github.com/reachdesk/reach/agent/session"
	"github.com/reachdesk/reach/proto"
	wire "github.com/reachdesk/reach/proto/agentapi"
	inv "github.com/reachdesk/reach/proto/inventory"
)

// reportFlags are serve's flags for the console connection.
type reportFlags struct {
	server   string
	interval time.Duration
	pollWait time.Duration
}

func (r *reportFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&r.server, "server", "", "console URL (default: the one the device enrolled with)")
	fs.DurationVar(&r.interval, "report-interval", 0, "inventory report interval (default: the console's, else 1h; jittered ±10%)")
	fs.DurationVar(&r.pollWait, "poll-wait", report.DefaultPollWait, "how long each long poll for console commands waits")
}

// reporting is an enrolled device's connection to the console: inventory,
// diagnostics on request, session events and relay-token refresh.
type reporting struct {
	rep    *report.Reporter
	log    *slog.Logger
	cancel context.CancelFunc
	done   chan struct{}

	mu    sync.Mutex
	seen  map[string]session.Status // guarded by mu: last status per session
	order []string                  // guarded by mu: sids in seen, oldest first
}

// startReporting starts reporting for the device enrolled in stateDir; it
// returns nil without error when the device is not enrolled (a relay-only
// setup with hand-placed keys).
func startReporting(ctx context.Context, stateDir string, rf *reportFlags, log *slog.Logger) (*reporting, error) {
	st, err := enroll.Load(stateDir)
	if errors.Is(err, enroll.ErrNotEnrolled) {
		log.Warn("not enrolled: no inventory, diagnostics or session log reach the console (run reach-agent enroll)")
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if rf.server != "" {
		if st.Server, err = enroll.ServerURL(rf.server); err != nil {
			return nil, err
		}
	}
	collector := inventory.New(inventory.Options{Logger: log})
	diagnoser := diag.New(diag.Options{ConsoleURL: st.Server, Inventory: collector, Logger: log})
	rep, err := report.New(enroll.NewClient(st, enroll.ClientOptions{}), report.Options{
		Collect:      collector.Collect,
		Diagnose:     func(ctx context.Context, checks []string) *inv.DiagReport { return diagnoser.RunChecks(ctx, checks) },
		Interval:     rf.interval,
		PollWait:     rf.pollWait,
		RefreshToken: true,
		Logger:       log,
	})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	r := &reporting{rep: rep, log: log, cancel: cancel, done: make(chan struct{}), seen: map[string]session.Status{}}
	go func() {
		defer close(r.done)
		rep.Run(ctx)
	}()
	ReportCSAT = func(_ context.Context, sid string, score int) error {
		return rep.Event(sid, wire.EventCSAT, map[string]int{"score": score})
	}
	return r, nil
}

// stop ends reporting; queued items stay on disk for the next start.
func (r *reporting) stop() {
	if r == nil {
		return
	}
	r.cancel()
	<-r.done
}

// event queues a session event, logging what the outbox refuses.
func (r *reporting) event(sid, typ string, detail any) {
	if err := r.rep.Event(sid, typ, detail); err != nil {
		r.log.Error("session event not queued", "sid", sid, "type", typ, "err", err)
	}
}

// maxTracked bounds the sessions whose last status is remembered.
const maxTracked = 256

// status turns session status changes into session events: the consent
// decision when a session becomes active, permission changes, the end.
func (r *reporting) status(s session.Status) {
	if r == nil {
		return
	}
	r.mu.Lock()
	prev, known := r.seen[s.SID]
	if !known {
		r.order = append(r.order, s.SID)
		if len(r.order) > maxTracked {
			delete(r.seen, r.order[0])
			r.order = r.order[1:]
		}
	}
	r.seen[s.SID] = s
	r.mu.Unlock()
	switch {
	case s.State == session.StateActive && prev.State != session.StateActive:
		decision := "view"
		if proto.HasPermission(s.Permissions, proto.PermControl) {
			decision = "control"
		}
		r.event(s.SID, wire.EventConsent, map[string]any{"decision": decision, "permissions": s.Permissions,
			"technician": s.Technician.Name})
	case s.State == session.StateActive && !slices.Equal(prev.Permissions, s.Permissions):
		r.event(s.SID, wire.EventPermissions, map[string]any{"permissions": s.Permissions})
	case s.State == session.StateEnded && prev.State != session.StateEnded:
		if prev.State == "" || prev.State == session.StateConsent {
			r.event(s.SID, wire.EventConsent, map[string]any{"decision": "denied"})
		}
		detail := map[string]any{"reason": s.Reason}
		if s.Err != nil {
			detail["error"] = s.Err.Error()
		}
		r.event(s.SID, wire.EventEnd, detail)
	}
}

// chat records the technician's chat lines.
func (r *reporting) chat(sid, text string) {
	if r == nil {
		return
	}
	r.event(sid, wire.EventChat, map[string]string{"from": "technician", "text": text})
}

// chainStatus calls every non-nil f.
func chainStatus(fs ...func(session.Status)) func(session.Status) {
	return func(s session.Status) {
		for _, f := range fs {
			if f != nil {
				f(s)
			}
		}
	}
}

// chainChat calls every non-nil f.
func chainChat(fs ...func(sid, text string)) func(sid, text string) {
	return func(sid, text string) {
		for _, f := range fs {
			if f != nil {
				f(sid, text)
			}
		}
	}
}

// enrolledRelay returns the relay URL enrollment stored in stateDir, if any.
func enrolledRelay(stateDir string) string {
	st, err := enroll.Load(stateDir)
	if err != nil {
		return ""
	}
	return st.RelayURL
}

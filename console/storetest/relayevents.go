package storetest

import (
	"encoding/json"
	"testing"

	"github.com/reachdesk/reach/console"
)

func testRelayEvents(t *testing.T, h Harness) {
	e := newEnv(t, h)
	s, ctx := e.s, e.ctx
	const relay = "wss://relay.example/v1/agent"

	c, err := s.FindRelayCursor(ctx, relay)
	e.must(err)
	if c.Relay != relay || c.Instance != "" || c.Seq != 0 {
		t.Fatalf("cursor before any read = %+v, want zero", c)
	}

	sess := &console.Session{Kind: console.SessionAttended, TechnicianID: e.tech().ID, Consent: console.ConsentPending}
	e.must(s.CreateSession(ctx, sess))
	events := []*console.SessionEvent{
		{SessionID: sess.ID, Source: console.SourceAgent, Type: "code_redeemed", Detail: json.RawMessage(`{"detail":"192.0.2.7"}`)},
		{SessionID: sess.ID, Type: "session_ended"},
	}
	e.must(s.AppendRelayEvents(ctx, &console.RelayCursor{Relay: relay, Instance: "i1", Seq: 7}, events))
	got, err := s.FindSessionEvents(ctx, console.SessionEventFilter{SessionID: sess.ID})
	e.must(err)
	if len(got) != 2 || got[0].Source != console.SourceRelay || got[1].Source != console.SourceRelay || got[0].Type != "code_redeemed" {
		t.Fatalf("timeline = %+v, want both events from the relay", deref(got))
	}
	c, err = s.FindRelayCursor(ctx, relay)
	e.must(err)
	if c.Instance != "i1" || c.Seq != 7 || !c.UpdatedAt.Equal(epoch) {
		t.Fatalf("cursor = %+v, want i1/7 at %v", c, epoch)
	}

	// Moving the cursor alone, and to a new relay instance.
	e.must(s.AppendRelayEvents(ctx, &console.RelayCursor{Relay: relay, Instance: "i2", Seq: 1}, nil))
	if c, _ = s.FindRelayCursor(ctx, relay); c.Instance != "i2" || c.Seq != 1 {
		t.Fatalf("cursor = %+v, want i2/1", c)
	}

	// All or nothing: an event for a missing session stores neither the
	// events nor the cursor.
	err = s.AppendRelayEvents(ctx, &console.RelayCursor{Relay: relay, Instance: "i2", Seq: 9}, []*console.SessionEvent{
		{SessionID: sess.ID, Type: "consent"}, {SessionID: sess.ID + 100, Type: "consent"},
	})
	if console.ErrorCode(err) != console.CodeNotFound {
		t.Fatalf("event of a missing session: err = %v, want not found", err)
	}
	if c, _ = s.FindRelayCursor(ctx, relay); c.Seq != 1 {
		t.Fatalf("cursor moved to %d by a failed append", c.Seq)
	}
	if got, _ = s.FindSessionEvents(ctx, console.SessionEventFilter{SessionID: sess.ID}); len(got) != 2 {
		t.Fatalf("a failed append stored %d events", len(got)-2)
	}

	for _, bad := range []*console.RelayCursor{{Relay: ""}, {Relay: relay, Seq: -1}} {
		if err := s.AppendRelayEvents(ctx, bad, nil); console.ErrorCode(err) != console.CodeInvalid {
			t.Errorf("cursor %+v: err = %v, want invalid", bad, err)
		}
	}
}

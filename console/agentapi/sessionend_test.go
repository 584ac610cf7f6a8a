package agentapi_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/reachdesk/reach/console"
	"github.com/reachdesk/reach/console/agentapi"
	"github.com/reachdesk/reach/console/webhook"
	wire "github.com/reachdesk/reach/proto/agentapi"
)

// TestAgentEndAttachesTheSessionLog: the end the agent reports closes the
// session once and puts its log on the ticket; the CSAT answer is recorded.
func TestAgentEndAttachesTheSessionLog(t *testing.T) {
	hooks := &published{}
	e := newEnv(t, agentapi.Options{Events: hooks})
	res, client := e.enroll(nil)
	tech := &console.User{Email: "ada@example.com", Name: "Ada", Role: console.RoleTechnician, Level: console.L1}
	if err := e.store.CreateUser(e.ctx, tech); err != nil {
		t.Fatal(err)
	}
	ticket := &console.Ticket{Title: "VPN drops", Channel: console.ChannelPhone, Priority: console.P2, Status: console.StatusOpen, Level: console.L1}
	if err := e.store.CreateTicket(e.ctx, ticket); err != nil {
		t.Fatal(err)
	}
	sess := &console.Session{Kind: console.SessionAttended, TicketID: ticket.ID, DeviceID: res.State.DeviceID,
		TechnicianID: tech.ID, Consent: console.ConsentControl, RelaySID: "s-9", StartedAt: e.clock.Now()}
	if err := e.store.CreateSession(e.ctx, sess); err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"events":[{"key":"k1","sid":"s-9","type":"end","at":"2026-01-01T00:00:00Z","detail":{"reason":"stopped by the user"}},
		{"key":"k2","sid":"s-9","type":"csat","at":"2026-01-01T00:00:01Z","detail":{"score":4,"comment":"quick"}}]}`)
	for range 2 { // a resent batch changes nothing
		if err := client.Do(e.ctx, http.MethodPost, wire.PathEvents, body, nil); err != nil {
			t.Fatal(err)
		}
	}
	got, err := e.store.FindSessionByID(e.ctx, sess.ID)
	if err != nil || got.EndedAt.IsZero() || got.EndReason != "stopped by the user" {
		t.Fatalf("session after the agent's end: %+v, %v", got, err)
	}
	events, _ := e.store.FindTicketEvents(e.ctx, ticket.ID)
	attached := 0
	for _, ev := range events {
		if ev.Kind == "session_attached" && ev.RefID == sess.ID {
			attached++
		}
	}
	if attached != 1 {
		t.Fatalf("ticket has %d session_attached events for the session, want 1: %+v", attached, events)
	}
	comments, _ := e.store.FindComments(e.ctx, ticket.ID, true)
	if len(comments) != 1 || !comments[0].Internal || !strings.Contains(comments[0].Body, "stopped by the user") {
		t.Fatalf("session log comment = %+v", comments)
	}
	if a, err := e.store.FindCSAT(e.ctx, sess.ID); err != nil || a.Score != 4 {
		t.Fatalf("CSAT = %+v, %v; want 4", a, err)
	}
	// One webhook event each, although the batch came twice.
	if got := strings.Join(hooks.types(), " "); got != "session.ended session.csat" {
		t.Fatalf("published %q, want session.ended then session.csat once", got)
	}
}

// published records the webhook events agentapi publishes.
type published struct {
	mu     sync.Mutex
	events []webhook.Event
}

func (p *published) Publish(_ context.Context, e webhook.Event) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = append(p.events, e)
	return nil
}

func (p *published) types() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, e := range p.events {
		out = append(out, e.Type)
	}
	return out
}

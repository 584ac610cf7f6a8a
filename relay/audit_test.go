package relay_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/reachdesk/reach/proto"
	"github.com/reachdesk/reach/relay"
)

// events fetches the relay's audit events after seq with tok.
func (tr *testRelay) events(t *testing.T, tok, query string) (int, *proto.AuditPage) {
	t.Helper()
	req, _ := http.NewRequest("GET", tr.http.URL+"/v1/events"+query, nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var p proto.AuditPage
	json.NewDecoder(resp.Body).Decode(&p)
	return resp.StatusCode, &p
}

func auditTypes(p *proto.AuditPage) string {
	var b strings.Builder
	for _, e := range p.Events {
		fmt.Fprintf(&b, "%s(%s) ", e.Type, e.Detail)
	}
	return strings.TrimSpace(b.String())
}

func TestAuditEventsTellTheSessionsStory(t *testing.T) {
	tr := newTestRelay(t, relay.Options{})
	tech, agent := tr.dialTech(t, "u1"), tr.dialAgent(t, "dev-1")
	ctx := ctxT(t)
	svc := tr.token(t, proto.KindService, "console")

	m, err := tech.Request(ctx, "", &proto.CodeCreate{})
	if err != nil {
		t.Fatal(err)
	}
	sid := m.SID
	agent.Send(ctx, "", &proto.CodeRedeem{Code: m.Body.(*proto.CodeCreated).Code})
	expect[*proto.ConsentRequest](t, agent)
	expect[*proto.PeerJoined](t, tech)
	agent.Send(ctx, sid, &proto.ConsentDecision{Decision: proto.DecisionView, Permissions: []proto.Permission{proto.PermView}})
	expect[*proto.ConsentDecision](t, tech)
	expect[*proto.SessionStart](t, tech)
	expect[*proto.SessionStart](t, agent)
	tech.Send(ctx, sid, &proto.SessionEnd{Reason: "done"})
	expect[*proto.SessionEnd](t, agent)

	var page *proto.AuditPage
	waitFor(t, func() bool {
		_, page = tr.events(t, svc, "")
		return len(page.Events) >= 4
	})
	want := "code.created() code.redeemed(127.0.0.1) consent(view: view) session.ended(ended by the technician)"
	if got := auditTypes(page); got != want {
		t.Fatalf("events = %s\nwant     %s", got, want)
	}
	for i, e := range page.Events {
		if e.SID != sid || e.Technician != "u1" || e.Seq != uint64(i+1) || e.At.IsZero() {
			t.Fatalf("event %d = %+v", i, e)
		}
		if i > 0 && e.Device != "dev-1" {
			t.Fatalf("event %d lacks the device: %+v", i, e)
		}
	}
	if err := page.Validate(); err != nil {
		t.Fatalf("the relay's page does not validate: %v", err)
	}

	// Paging: after=2&limit=1 gives exactly the third event.
	if code, p := tr.events(t, svc, "?after=2&limit=1"); code != 200 || len(p.Events) != 1 || p.Events[0].Seq != 3 || p.Instance != page.Instance {
		t.Fatalf("after=2&limit=1: %d %+v", code, p)
	}
	if _, p := tr.events(t, svc, "?after=99"); len(p.Events) != 0 || p.Lost {
		t.Fatalf("after the last event: %+v", p)
	}
}

func TestAuditEventsNeedAServiceToken(t *testing.T) {
	tr := newTestRelay(t, relay.Options{})
	for name, tok := range map[string]string{
		"none":       "",
		"technician": tr.token(t, proto.KindTechnician, "u1"),
		"device":     tr.token(t, proto.KindDevice, "dev-1"),
	} {
		if code, _ := tr.events(t, tok, ""); code != http.StatusUnauthorized {
			t.Errorf("%s token: %d, want 401", name, code)
		}
	}
	svc := tr.token(t, proto.KindService, "console")
	for _, q := range []string{"?after=-1", "?after=x", "?limit=0", "?limit=100000"} {
		if code, _ := tr.events(t, svc, q); code != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", q, code)
		}
	}
}

package consent_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/reachdesk/reach/agent/consent"
	"github.com/reachdesk/reach/proto"
)

var req = consent.Request{
	Technician:  proto.Person{ID: "u1", Name: "Ann\x1b[2J Tech", Org: "ACME IT"},
	Ticket:      &proto.TicketRef{ID: "42", Title: "Printer"},
	Permissions: []proto.Permission{proto.PermView, proto.PermControl, proto.PermClipboard},
	Timeout:     time.Second,
}

func TestTerminalAnswers(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want proto.Decision
		why  string
	}{
		{"c\n", proto.DecisionControl, ""},
		{"maybe\nv\n", proto.DecisionView, ""},
		{"d\n", proto.DecisionDeny, "user"},
	} {
		var out strings.Builder
		pr, pw := io.Pipe()
		term := consent.NewTerminal(pr, &out)
		go func() {
			time.Sleep(50 * time.Millisecond) // lines typed before the question are dropped
			io.WriteString(pw, tc.in)
		}()
		a := consent.Decide(context.Background(), req, consent.PolicyAsk, term)
		pw.Close()
		if a.Decision != tc.want || a.Reason != tc.why {
			t.Errorf("%q: got %+v, want %s/%s", tc.in, a, tc.want, tc.why)
		}
		for _, s := range []string{"Ann[2J Tech (ACME IT)", "Ticket: 42 Printer", "Allow control"} {
			if !strings.Contains(out.String(), s) {
				t.Errorf("prompt %q lacks %q", out.String(), s)
			}
		}
	}
}

func TestTimeoutDenies(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	r := req
	r.Timeout = 200 * time.Millisecond
	start := time.Now()
	a := consent.Decide(context.Background(), r, consent.PolicyAsk, consent.NewTerminal(pr, io.Discard))
	if a.Decision != proto.DecisionDeny || a.Reason != "timeout" || time.Since(start) > 2*time.Second {
		t.Fatalf("got %+v after %v", a, time.Since(start))
	}
}

func TestUnattendedPolicy(t *testing.T) {
	never := consent.PrompterFunc(func(ctx context.Context, _ consent.Request) (proto.Decision, error) {
		<-ctx.Done()
		return proto.DecisionDeny, ctx.Err()
	})
	r := req
	r.Unattended = true
	r.Timeout = 100 * time.Millisecond
	for p, want := range map[consent.Policy]proto.Decision{
		consent.PolicyDeny: proto.DecisionDeny, consent.PolicyView: proto.DecisionView,
		consent.PolicyControl: proto.DecisionControl, consent.PolicyAsk: proto.DecisionDeny,
	} {
		if a := consent.Decide(context.Background(), r, p, never); a.Decision != want {
			t.Errorf("policy %s: %+v, want %s", p, a, want)
		}
	}
	if _, err := consent.ParsePolicy("sometimes"); err == nil {
		t.Error("ParsePolicy accepted nonsense")
	}
	if got := consent.Granted(r.Permissions, proto.DecisionView); len(got) != 1 || got[0] != proto.PermView {
		t.Errorf("Granted(view) = %v", got)
	}
}

// Package consent decides whether a technician may see or control the end
// user's screen: it asks the end user through a Prompter (a terminal prompt
// for now; the agent's UI later) and applies the device's policy for
// unattended connects. No answer within the request's timeout is a deny.
package consent

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/reachdesk/reach/proto"
)

// Request is what the end user is asked.
type Request struct {
	Technician  proto.Person
	Ticket      *proto.TicketRef
	Permissions []proto.Permission // what the technician asks for
	Unattended  bool
	Timeout     time.Duration
}

// Answer is the end user's (or policy's) decision.
type Answer struct {
	Decision proto.Decision
	Reason   string // why a deny happened: "user", "timeout", "policy"
}

// Prompter asks the end user. Ask returns when the user answered or ctx
// ended; the caller applies the timeout through ctx.
type Prompter interface {
	Ask(ctx context.Context, r Request) (proto.Decision, error)
}

// Policy says how unattended connects are answered.
type Policy string

const (
	PolicyDeny    Policy = "deny"    // refuse every unattended connect
	PolicyAsk     Policy = "ask"     // ask the logged-in user; no answer is a deny
	PolicyView    Policy = "view"    // allow viewing without asking
	PolicyControl Policy = "control" // allow what the console granted without asking
)

// ParsePolicy checks a policy name.
func ParsePolicy(s string) (Policy, error) {
	switch p := Policy(s); p {
	case PolicyDeny, PolicyAsk, PolicyView, PolicyControl:
		return p, nil
	}
	return "", fmt.Errorf("consent: unknown policy %q (want deny, ask, view or control)", s)
}

// Decide answers r: attended requests always ask the user; unattended ones
// follow policy. Prompt errors and the timeout deny.
func Decide(ctx context.Context, r Request, policy Policy, p Prompter) Answer {
	if r.Unattended {
		switch policy {
		case PolicyView:
			return Answer{Decision: proto.DecisionView, Reason: "policy"}
		case PolicyControl:
			return Answer{Decision: proto.DecisionControl, Reason: "policy"}
		case PolicyAsk:
		default:
			return Answer{Decision: proto.DecisionDeny, Reason: "policy"}
		}
	}
	if p == nil {
		return Answer{Decision: proto.DecisionDeny, Reason: "policy"}
	}
	timeout := r.Timeout
	if timeout <= 0 || timeout > proto.DefaultConsentWait {
		timeout = proto.DefaultConsentWait
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	d, err := p.Ask(ctx, r)
	var u *Unanswered
	switch {
	case errors.Is(err, context.DeadlineExceeded) || (err != nil && ctx.Err() != nil):
		return Answer{Decision: proto.DecisionDeny, Reason: "timeout"}
	case errors.As(err, &u):
		return Answer{Decision: proto.DecisionDeny, Reason: u.Reason}
	case err != nil:
		return Answer{Decision: proto.DecisionDeny, Reason: "user"}
	case d == proto.DecisionView, d == proto.DecisionControl:
		if d == proto.DecisionControl && !proto.HasPermission(r.Permissions, proto.PermControl) {
			d = proto.DecisionView
		}
		return Answer{Decision: d}
	default:
		return Answer{Decision: proto.DecisionDeny, Reason: "user"}
	}
}

// Granted lists the permissions an answer grants out of those requested:
// view alone for DecisionView, all requested for DecisionControl.
func Granted(requested []proto.Permission, d proto.Decision) []proto.Permission {
	var out []proto.Permission
	for _, p := range requested {
		switch {
		case p == proto.PermUnattended:
		case d == proto.DecisionControl, d == proto.DecisionView && p == proto.PermView:
			out = append(out, p)
		}
	}
	return out
}

// PrompterFunc adapts a function to Prompter.
type PrompterFunc func(ctx context.Context, r Request) (proto.Decision, error)

// Ask calls f.
func (f PrompterFunc) Ask(ctx context.Context, r Request) (proto.Decision, error) { return f(ctx, r) }

// Terminal asks on a terminal: it shows who asks and reads "v", "c" or "d".
// One goroutine reads in; lines typed while no question is open are
// discarded, so a stray Enter cannot answer the next request.
type Terminal struct {
	out   io.Writer
	lines chan string

	mu     sync.Mutex // guards asking
	asking bool
}

// NewTerminal returns a prompter reading answers from in and writing
// questions to out.
func NewTerminal(in io.Reader, out io.Writer) *Terminal {
	t := &Terminal{out: out, lines: make(chan string)}
	go func() {
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			t.mu.Lock()
			asking := t.asking
			t.mu.Unlock()
			if asking {
				t.lines <- sc.Text()
			}
		}
		close(t.lines)
	}()
	return t
}

// Ask implements Prompter.
func (t *Terminal) Ask(ctx context.Context, r Request) (proto.Decision, error) {
	var b strings.Builder
	who := r.Technician.Name
	if r.Technician.Org != "" {
		who += " (" + r.Technician.Org + ")"
	}
	fmt.Fprintf(&b, "\n%s asks for remote access to this computer.\n", sanitize(who))
	if r.Ticket != nil {
		fmt.Fprintf(&b, "Ticket: %s %s\n", sanitize(r.Ticket.ID), sanitize(r.Ticket.Title))
	}
	if r.Unattended {
		b.WriteString("This is an unattended connect requested through your IT department.\n")
	}
	control := proto.HasPermission(r.Permissions, proto.PermControl)
	if control {
		b.WriteString("[v] Allow view   [c] Allow control   [d] Deny")
	} else {
		b.WriteString("[v] Allow view   [d] Deny")
	}
	if r.Timeout > 0 {
		fmt.Fprintf(&b, "   (deny in %d s)", int(r.Timeout.Seconds()))
	}
	b.WriteString("\n> ")
	t.mu.Lock()
	t.asking = true
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		t.asking = false
		t.mu.Unlock()
	}()
	io.WriteString(t.out, b.String())
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintln(t.out, "\nNo answer: access denied.")
			return proto.DecisionDeny, ctx.Err()
		case line, ok := <-t.lines:
			if !ok {
				return proto.DecisionDeny, io.EOF
			}
			switch strings.ToLower(strings.TrimSpace(line)) {
			case "v", "view":
				return proto.DecisionView, nil
			case "c", "control":
				if control {
					return proto.DecisionControl, nil
				}
			case "d", "deny", "n", "no":
				return proto.DecisionDeny, nil
			}
			io.WriteString(t.out, "Please type v, c or d.\n> ")
		}
	}
}

// sanitize drops control characters from text the relay passed along, so
// that it cannot move the cursor or rewrite the prompt.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return -1
		}
		return r
	}, s)
}

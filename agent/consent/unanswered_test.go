package consent_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/reachdesk/reach/agent/consent"
	"github.com/reachdesk/reach/proto"
)

func TestUnansweredReason(t *testing.T) {
	nobody := consent.PrompterFunc(func(context.Context, consent.Request) (proto.Decision, error) {
		return proto.DecisionControl, fmt.Errorf("bridge: %w", &consent.Unanswered{Reason: "nobody is signed in to answer"})
	})
	a := consent.Decide(context.Background(), consent.Request{Unattended: true, Permissions: []proto.Permission{proto.PermView}}, consent.PolicyAsk, nobody)
	if a.Decision != proto.DecisionDeny || a.Reason != "nobody is signed in to answer" {
		t.Fatalf("got %+v, want deny with the prompter's reason", a)
	}
}

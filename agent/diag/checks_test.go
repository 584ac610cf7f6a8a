package diag

import (
	"context"
	"slices"
	"testing"
	"testing/fstest"

	wire "github.com/reachdesk/reach/proto/agentapi"
	inv "github.com/reachdesk/reach/proto/inventory"
)

// The console may request exactly the checks the agent has.
func TestChecksMatchTheAPI(t *testing.T) {
	if !slices.Equal(Checks(), wire.DiagChecks) {
		t.Errorf("Checks() = %q, proto/agentapi.DiagChecks = %q", Checks(), wire.DiagChecks)
	}
}

func TestRunChecksSubset(t *testing.T) {
	r := New(Options{FS: fstest.MapFS{}})
	rep := r.RunChecks(context.Background(), []string{CheckPendingReboot, CheckTimeSync, CheckPendingReboot, "shell"})
	var got []string
	for _, res := range rep.Results {
		got = append(got, res.Check)
	}
	if want := []string{CheckPendingReboot, CheckTimeSync, "shell"}; !slices.Equal(got, want) {
		t.Fatalf("checks run = %q, want %q", got, want)
	}
	if rep.Results[2].Status != inv.DiagUnknown || rep.Results[2].Summary != "no such check" {
		t.Errorf("unknown check result = %+v, want unknown: no such check", rep.Results[2])
	}
	if err := rep.Validate(); err != nil {
		t.Errorf("report invalid: %v", err)
	}
}

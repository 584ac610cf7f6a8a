package main

import (
	"testing"

	"github.com/reachdesk/reach/internal/depfence"
)

func TestDeps(t *testing.T) {
	depfence.Check(t, "github.com/reachdesk/reach/relay/cmd/reach-relay",
		"github.com/go-vgo/robotgo",
		"github.com/shirou/gopsutil",
		"github.com/kbinani/screenshot",
		"github.com/jezek/xgb",
		"github.com/reachdesk/reach/agent",
		"github.com/reachdesk/reach/console",
		"github.com/pion/webrtc", // the relay forwards SDP, it never parses media
	)
}

package main

import (
	"testing"

	"github.com/reachdesk/reach/internal/depfence"
)

func TestDeps(t *testing.T) {
	depfence.Check(t, "github.com/reachdesk/reach/console/cmd/reach-console",
		"github.com/go-vgo/robotgo",
		"github.com/shirou/gopsutil",
		"github.com/kbinani/screenshot",
		"github.com/jezek/xgb",
		"github.com/reachdesk/reach/agent",
		"github.com/pion/webrtc", // no media code in the console
		"github.com/pion/mediadevices",
	)
}

package storetest

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/reachdesk/reach/console"
)

// The ingestion tests that store a request's receipt and complete inventory
// commands in the report's transaction join the agent API tests.
func init() {
	agentAPITests = append(agentAPITests, struct {
		name string
		fn   func(*testing.T, Harness)
	}{"IngestWithReceipt", testIngestWithReceipt})
}

func testIngestWithReceipt(t *testing.T, h Harness) {
	e := newEnv(t, h)
	s, ctx := e.s, e.ctx
	d := e.device(e.group(), "ws-1")
	cmd := &console.DeviceCommand{DeviceID: d.ID, Kind: console.CommandInventory}
	e.must(s.CreateDeviceCommand(ctx, cmd))
	e.clock.Advance(time.Minute)

	ubuntu := console.OSInfo{Name: "Ubuntu", Version: "24.04"}
	sw := []console.Software{{Name: "Zoom", Version: "5.16"}}
	answer := func(res *console.IngestResult) (json.RawMessage, error) {
		return json.Marshal(map[string]any{"changed": res.ChangedSections})
	}
	r := report(d.ID, ubuntu, sw, 10, "i5")
	r.CompleteCommandsBefore = e.clock.Now()
	r.Receipt = &console.IngestReceipt{Key: "r1", Kind: "report", Status: 200, Result: answer}
	res, err := s.IngestInventory(ctx, r)
	e.must(err)
	equal(t, "first ingest not replayed", res.Replayed == nil, true)
	got, err := s.FindAgentReceipt(ctx, d.ID, "r1")
	e.must(err)
	equal(t, "receipt", *got, console.AgentReceipt{DeviceID: d.ID, Key: "r1", Kind: "report", Status: 200,
		Result: json.RawMessage(`{"changed":["hardware","os","software"]}`), CreatedAt: e.clock.Now()})
	c, err := s.FindDeviceCommandByID(ctx, cmd.ID)
	e.must(err)
	equal(t, "inventory command completed", c.CompletedAt, e.clock.Now())

	// The same key again: nothing is ingested, the stored receipt answers.
	e.clock.Advance(time.Minute)
	again := report(d.ID, console.OSInfo{Name: "Ubuntu", Version: "26.04"}, sw, 10, "i7")
	again.Receipt = &console.IngestReceipt{Key: "r1", Kind: "report", Status: 200, Result: answer}
	res, err = s.IngestInventory(ctx, again)
	e.must(err)
	equal(t, "replayed receipt", res.Replayed != nil && string(res.Replayed.Result) == string(got.Result), true)
	dev, err := s.FindDeviceByID(ctx, d.ID)
	e.must(err)
	equal(t, "replay ingested nothing", dev.OS, ubuntu)

	// A receipt that cannot be stored leaves no report behind.
	bad := report(d.ID, console.OSInfo{Name: "Ubuntu", Version: "26.04"}, sw, 10, "i7")
	bad.Receipt = &console.IngestReceipt{Key: "r2", Kind: "report", Status: 200,
		Result: func(*console.IngestResult) (json.RawMessage, error) { return json.RawMessage(`{`), nil }}
	_, err = s.IngestInventory(ctx, bad)
	wantCode(t, "invalid receipt result", err, console.CodeInvalid)
	dev, err = s.FindDeviceByID(ctx, d.ID)
	e.must(err)
	equal(t, "rolled back with its receipt", dev.OS, ubuntu)
	bad.Receipt = &console.IngestReceipt{Key: "has space", Kind: "report", Status: 200, Result: answer}
	_, err = s.IngestInventory(ctx, bad)
	wantCode(t, "invalid receipt key", err, console.CodeInvalid)

	// Concurrent retries of one request: one ingests, the others replay.
	var wg sync.WaitGroup
	replays := make(chan bool, 4)
	for i := range 4 {
		wg.Go(func() {
			r := report(d.ID, console.OSInfo{Name: "Ubuntu", Version: "26.04"}, sw, uint64(20+i), "i7")
			r.Receipt = &console.IngestReceipt{Key: "r3", Kind: "report", Status: 200, Result: answer}
			res, err := s.IngestInventory(ctx, r)
			if err != nil {
				t.Error(err)
				return
			}
			replays <- res.Replayed != nil
		})
	}
	wg.Wait()
	close(replays)
	n := 0
	for r := range replays {
		if r {
			n++
		}
	}
	equal(t, "replayed retries", n, 3)
}

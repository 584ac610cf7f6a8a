package storetest

import (
	"crypto/sha256"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/reachdesk/reach/console"
)

// agentAPITests are the console.AgentService tests, run by Run.
var agentAPITests = []struct {
	name string
	fn   func(*testing.T, Harness)
}{
	{"AgentReceipts", testAgentReceipts},
	{"DeviceCommands", testDeviceCommands},
	{"RecordDiagnostics", testRecordDiagnostics},
	{"AgentEvents", testAgentEvents},
	{"AgentEventsLinkToSessions", testAgentEventsLink},
	{"QuickKeys", testQuickKeys},
}

func testAgentReceipts(t *testing.T, h Harness) {
	e := newEnv(t, h)
	s, ctx := e.s, e.ctx
	d := e.device(e.group(), "ws-1")
	_, err := s.FindAgentReceipt(ctx, d.ID, "k1")
	wantCode(t, "FindAgentReceipt missing", err, console.CodeNotFound)
	r := &console.AgentReceipt{DeviceID: d.ID, Key: "k1", Kind: "report", Status: 200, Result: json.RawMessage(`{"state":"abc"}`)}
	e.must(s.CreateAgentReceipt(ctx, r))
	got, err := s.FindAgentReceipt(ctx, d.ID, "k1")
	e.must(err)
	equal(t, "receipt", *got, console.AgentReceipt{DeviceID: d.ID, Key: "k1", Kind: "report", Status: 200,
		Result: json.RawMessage(`{"state":"abc"}`), CreatedAt: epoch})
	wantCode(t, "duplicate key", s.CreateAgentReceipt(ctx, &console.AgentReceipt{DeviceID: d.ID, Key: "k1", Kind: "report", Status: 200}),
		console.CodeConflict)
	other := e.device(e.group(), "ws-2")
	e.must(s.CreateAgentReceipt(ctx, &console.AgentReceipt{DeviceID: other.ID, Key: "k1", Kind: "report", Status: 200}))
	for _, bad := range []*console.AgentReceipt{
		{DeviceID: d.ID, Key: "", Kind: "report", Status: 200},
		{DeviceID: d.ID, Key: "has space", Kind: "report", Status: 200},
		{DeviceID: d.ID, Key: "k2", Kind: "report", Status: 42},
		{DeviceID: d.ID, Key: "k2", Kind: "report", Status: 200, Result: json.RawMessage(`{`)},
	} {
		wantCode(t, "invalid receipt "+bad.Key, s.CreateAgentReceipt(ctx, bad), console.CodeInvalid)
	}
	wantCode(t, "receipt of unknown device", s.CreateAgentReceipt(ctx, &console.AgentReceipt{DeviceID: 9999, Key: "k", Kind: "report", Status: 200}),
		console.CodeNotFound)
	e.clock.Advance(time.Hour)
	e.must(s.CreateAgentReceipt(ctx, &console.AgentReceipt{DeviceID: d.ID, Key: "k3", Kind: "report", Status: 200}))
	n, err := s.DeleteAgentReceipts(ctx, epoch.Add(time.Minute))
	e.must(err)
	equal(t, "receipts pruned", n, int64(2))
	_, err = s.FindAgentReceipt(ctx, d.ID, "k3")
	e.must(err)
}

func testDeviceCommands(t *testing.T, h Harness) {
	e := newEnv(t, h)
	s, ctx := e.s, e.ctx
	d := e.device(e.group(), "ws-1")
	tech := e.tech()
	_, maxID, err := s.CommandDevicesAfter(ctx, 0)
	e.must(err)
	equal(t, "no commands yet", maxID, int64(0))

	inv := &console.DeviceCommand{DeviceID: d.ID, Kind: console.CommandInventory, RequestedBy: tech.ID}
	e.must(s.CreateDeviceCommand(ctx, inv))
	again := &console.DeviceCommand{DeviceID: d.ID, Kind: console.CommandInventory}
	e.must(s.CreateDeviceCommand(ctx, again))
	equal(t, "pending inventory command reused", again.ID, inv.ID)

	e.clock.Advance(time.Minute)
	diag := &console.DeviceCommand{DeviceID: d.ID, Kind: console.CommandDiagnostics, Checks: []string{"disk_space", "dns"}}
	e.must(s.CreateDeviceCommand(ctx, diag))
	got, err := s.FindDeviceCommandByID(ctx, diag.ID)
	e.must(err)
	equal(t, "diagnostics command", *got, console.DeviceCommand{ID: diag.ID, DeviceID: d.ID, Kind: console.CommandDiagnostics,
		Checks: []string{"disk_space", "dns"}, CreatedAt: epoch.Add(time.Minute)})

	devices, maxID, err := s.CommandDevicesAfter(ctx, 0)
	e.must(err)
	equal(t, "devices with commands", devices, []int64{d.ID})
	equal(t, "max command id", maxID, diag.ID)
	devices, maxID2, err := s.CommandDevicesAfter(ctx, maxID)
	e.must(err)
	equal(t, "nothing newer", []any{len(devices), maxID2}, []any{0, maxID})

	pending, err := s.FindPendingCommands(ctx, d.ID, epoch)
	e.must(err)
	equal(t, "pending", []int64{pending[0].ID, pending[1].ID}, []int64{inv.ID, diag.ID})
	pending, err = s.FindPendingCommands(ctx, d.ID, epoch.Add(time.Second))
	e.must(err)
	equal(t, "pending since", len(pending), 1)

	e.must(s.MarkCommandsDelivered(ctx, d.ID, []int64{inv.ID, diag.ID}, e.clock.Now()))
	got, err = s.FindDeviceCommandByID(ctx, inv.ID)
	e.must(err)
	equal(t, "delivered", got.DeliveredAt, e.clock.Now())

	e.must(s.CompleteInventoryCommands(ctx, d.ID, e.clock.Now()))
	got, err = s.FindDeviceCommandByID(ctx, inv.ID)
	e.must(err)
	equal(t, "inventory completed", got.CompletedAt, e.clock.Now())
	pending, err = s.FindPendingCommands(ctx, d.ID, time.Time{})
	e.must(err)
	equal(t, "still pending", len(pending), 1)

	// Bounded: at most MaxPendingCommands diagnostics per device.
	for range console.MaxPendingCommands - 1 {
		e.must(s.CreateDeviceCommand(ctx, &console.DeviceCommand{DeviceID: d.ID, Kind: console.CommandDiagnostics}))
	}
	wantCode(t, "too many pending", s.CreateDeviceCommand(ctx, &console.DeviceCommand{DeviceID: d.ID, Kind: console.CommandDiagnostics}),
		console.CodeConflict)
	for _, bad := range []*console.DeviceCommand{
		{DeviceID: d.ID, Kind: "shell"},
		{DeviceID: d.ID, Kind: console.CommandInventory, Checks: []string{"dns"}},
		{DeviceID: d.ID, Kind: console.CommandDiagnostics, Checks: []string{"rm -rf /"}},
		{Kind: console.CommandInventory},
	} {
		wantCode(t, "invalid command", s.CreateDeviceCommand(ctx, bad), console.CodeInvalid)
	}
	wantCode(t, "unknown device", s.CreateDeviceCommand(ctx, &console.DeviceCommand{DeviceID: 9999, Kind: console.CommandInventory}),
		console.CodeNotFound)
}

func testRecordDiagnostics(t *testing.T, h Harness) {
	e := newEnv(t, h)
	s, ctx := e.s, e.ctx
	d := e.device(e.group(), "ws-1")
	cmd := &console.DeviceCommand{DeviceID: d.ID, Kind: console.CommandDiagnostics}
	e.must(s.CreateDeviceCommand(ctx, cmd))
	results := func() []*console.DiagnosticResult {
		return []*console.DiagnosticResult{
			{DeviceID: d.ID, Check: "disk_space", Status: console.DiagnosticOK, Output: []byte(`{"summary":"fine"}`)},
			{DeviceID: d.ID, Check: "dns", Status: console.DiagnosticFail, Output: []byte(`{"summary":"no answer"}`)},
		}
	}
	r := &console.AgentReceipt{DeviceID: d.ID, Key: "diag-1", Kind: "diagnostics", Status: 200, Result: json.RawMessage(`{"results":2}`)}
	got, err := s.RecordDiagnostics(ctx, r, cmd.ID, results())
	e.must(err)
	equal(t, "first record returns its receipt", got.Key, "diag-1")
	stored, err := s.FindCommandDiagnostics(ctx, cmd.ID)
	e.must(err)
	equal(t, "results stored", []string{stored[0].Check, stored[1].Check}, []string{"disk_space", "dns"})
	c, err := s.FindDeviceCommandByID(ctx, cmd.ID)
	e.must(err)
	equal(t, "command completed", c.CompletedAt, epoch)

	// A retry stores nothing and answers the first receipt.
	e.clock.Advance(time.Minute)
	retry := &console.AgentReceipt{DeviceID: d.ID, Key: "diag-1", Kind: "diagnostics", Status: 200, Result: json.RawMessage(`{"results":99}`)}
	got, err = s.RecordDiagnostics(ctx, retry, cmd.ID, results())
	e.must(err)
	equal(t, "retry answers the original", []any{string(got.Result), got.CreatedAt}, []any{`{"results":2}`, epoch})
	stored, err = s.FindCommandDiagnostics(ctx, cmd.ID)
	e.must(err)
	equal(t, "no duplicate results", len(stored), 2)

	// A result that fails validation stores nothing, not even the receipt.
	bad := results()
	bad[1].Status = "exploded"
	_, err = s.RecordDiagnostics(ctx, &console.AgentReceipt{DeviceID: d.ID, Key: "diag-2", Kind: "diagnostics", Status: 200}, 0, bad)
	wantCode(t, "invalid result", err, console.CodeInvalid)
	_, err = s.FindAgentReceipt(ctx, d.ID, "diag-2")
	wantCode(t, "no receipt for a refused run", err, console.CodeNotFound)
	other := e.device(e.group(), "ws-2")
	_, err = s.RecordDiagnostics(ctx, &console.AgentReceipt{DeviceID: other.ID, Key: "diag-3", Kind: "diagnostics", Status: 200}, cmd.ID, nil)
	wantCode(t, "another device's command", err, console.CodeNotFound)
}

func testAgentEvents(t *testing.T, h Harness) {
	e := newEnv(t, h)
	s, ctx := e.s, e.ctx
	d := e.device(e.group(), "ws-1")
	agentAt := epoch.Add(-time.Second)
	batch := func() []*console.AgentEvent {
		return []*console.AgentEvent{
			{DeviceID: d.ID, Key: "e1", SID: "s-1", Type: "consent", At: agentAt, Detail: json.RawMessage(`{"decision":"control"}`)},
			{DeviceID: d.ID, Key: "e2", SID: "s-1", Type: "chat", At: agentAt, Detail: json.RawMessage(`{"text":"<script>"}`)},
		}
	}
	first := batch()
	e.must(s.AppendAgentEvents(ctx, first))
	for _, ev := range first {
		if ev.ID == 0 || ev.Duplicate || ev.SessionID != 0 || !ev.ReceivedAt.Equal(epoch) {
			t.Errorf("stored event %+v: want an ID, not duplicate, unlinked, received at %v", ev, epoch)
		}
	}
	// The same keys again, plus a new one, in one batch.
	e.clock.Advance(time.Minute)
	second := append(batch(), &console.AgentEvent{DeviceID: d.ID, Key: "e3", SID: "s-1", Type: "end"})
	e.must(s.AppendAgentEvents(ctx, second))
	equal(t, "duplicates flagged", []bool{second[0].Duplicate, second[1].Duplicate, second[2].Duplicate}, []bool{true, true, false})
	equal(t, "duplicate answers the original", []any{second[0].ID, second[0].ReceivedAt}, []any{first[0].ID, epoch})
	equal(t, "event without time gets the store's", second[2].At, e.clock.Now())

	got, err := s.FindAgentEvents(ctx, console.AgentEventFilter{SID: "s-1"})
	e.must(err)
	equal(t, "stored once each", len(got), 3)
	equal(t, "detail kept as sent", string(got[1].Detail), `{"text":"<script>"}`)
	n, err := s.LinkAgentEvents(ctx, "s-1")
	e.must(err)
	equal(t, "no session to link to yet", n, 0)

	for _, bad := range []*console.AgentEvent{
		{DeviceID: d.ID, Key: "", SID: "s", Type: "chat"},
		{DeviceID: d.ID, Key: "x", SID: "", Type: "chat"},
		{DeviceID: d.ID, Key: "x", SID: "s", Type: "Chat!"},
		{DeviceID: d.ID, Key: "x", SID: "s", Type: "chat", Detail: json.RawMessage(`nope`)},
		{DeviceID: d.ID, Key: "x", SID: "s", Type: "chat", Detail: json.RawMessage(`"` + string(make([]byte, console.MaxDetailBytes)) + `"`)},
	} {
		wantCode(t, "invalid event", s.AppendAgentEvents(ctx, []*console.AgentEvent{bad}), console.CodeInvalid)
	}
	wantCode(t, "unknown device", s.AppendAgentEvents(ctx, []*console.AgentEvent{{DeviceID: 9999, Key: "k", SID: "s", Type: "chat"}}),
		console.CodeNotFound)

	// Concurrent retries of one batch store it once.
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				b := []*console.AgentEvent{{DeviceID: d.ID, Key: "race", SID: "s-2", Type: "chat"}}
				if err := s.AppendAgentEvents(ctx, b); err != nil && console.ErrorCode(err) != console.CodeConflict {
					t.Errorf("concurrent append: %v", err)
				}
			}
		}()
	}
	wg.Wait()
	got, err = s.FindAgentEvents(ctx, console.AgentEventFilter{DeviceID: d.ID, SID: "s-2"})
	e.must(err)
	equal(t, "raced key stored once", len(got), 1)
}

func testQuickKeys(t *testing.T, h Harness) {
	e := newEnv(t, h)
	s, ctx := e.s, e.ctx
	code := sha256.Sum256([]byte("123456789"))
	k := &console.QuickKey{CodeHash: code[:], PublicKey: key("quick 1"), ExpiresAt: epoch.Add(10 * time.Minute)}
	e.must(s.CreateQuickKey(ctx, k))
	got, err := s.FindQuickKey(ctx, code[:])
	e.must(err)
	equal(t, "quick key", *got, console.QuickKey{ID: k.ID, CodeHash: code[:], PublicKey: key("quick 1"),
		ExpiresAt: epoch.Add(10 * time.Minute), CreatedAt: epoch})

	same := &console.QuickKey{CodeHash: code[:], PublicKey: key("quick 1"), ExpiresAt: epoch.Add(time.Hour)}
	e.must(s.CreateQuickKey(ctx, same))
	equal(t, "same key again is the stored one", []any{same.ID, same.ExpiresAt}, []any{k.ID, k.ExpiresAt})
	wantCode(t, "another key for the code", s.CreateQuickKey(ctx, &console.QuickKey{CodeHash: code[:], PublicKey: key("attacker"),
		ExpiresAt: epoch.Add(time.Hour)}), console.CodeConflict)
	got, err = s.FindQuickKey(ctx, code[:])
	e.must(err)
	equal(t, "first key stays", got.PublicKey, key("quick 1"))

	for _, bad := range []*console.QuickKey{
		{CodeHash: code[:4], PublicKey: key("x"), ExpiresAt: epoch.Add(time.Minute)},
		{CodeHash: code[:], PublicKey: key("x")[:5], ExpiresAt: epoch.Add(time.Minute)},
		{CodeHash: code[:], PublicKey: key("x")},
	} {
		wantCode(t, "invalid quick key", s.CreateQuickKey(ctx, bad), console.CodeInvalid)
	}

	e.clock.Advance(10 * time.Minute)
	_, err = s.FindQuickKey(ctx, code[:])
	wantCode(t, "expired with the code", err, console.CodeNotFound)
	// The code space is small: a later session may draw the same code.
	k2 := &console.QuickKey{CodeHash: code[:], PublicKey: key("quick 2"), ExpiresAt: e.clock.Now().Add(10 * time.Minute)}
	e.must(s.CreateQuickKey(ctx, k2))
	got, err = s.FindQuickKey(ctx, code[:])
	e.must(err)
	equal(t, "reused code gets the new key", got.PublicKey, key("quick 2"))

	other := sha256.Sum256([]byte("987654321"))
	e.must(s.CreateQuickKey(ctx, &console.QuickKey{CodeHash: other[:], PublicKey: key("q3"), ExpiresAt: e.clock.Now().Add(time.Minute)}))
	e.clock.Advance(time.Hour)
	n, err := s.DeleteExpiredQuickKeys(ctx, e.clock.Now())
	e.must(err)
	equal(t, "expired keys deleted", n, int64(2))
}

func testAgentEventsLink(t *testing.T, h Harness) {
	e := newEnv(t, h)
	s, ctx := e.s, e.ctx
	d := e.device(e.group(), "ws-1")
	other := e.device(e.group(), "ws-2")
	tech := e.tech()
	// Events can arrive before the browser reports the relay sid.
	early := []*console.AgentEvent{{DeviceID: d.ID, Key: "a", SID: "sid-1", Type: "consent", Detail: json.RawMessage(`{"decision":"view"}`)}}
	e.must(s.AppendAgentEvents(ctx, early))
	equal(t, "not linked yet", early[0].SessionID, int64(0))

	sess := &console.Session{Kind: console.SessionUnattended, DeviceID: d.ID, TechnicianID: tech.ID, Consent: console.ConsentPending}
	e.must(s.CreateSession(ctx, sess))
	_, err := s.UpdateSession(ctx, sess.ID, console.SessionUpdate{RelaySID: ptr("sid-1")})
	e.must(err)
	n, err := s.LinkAgentEvents(ctx, "sid-1")
	e.must(err)
	equal(t, "linked", n, 1)
	n, err = s.LinkAgentEvents(ctx, "sid-1")
	e.must(err)
	equal(t, "linked once", n, 0)

	// Later events are linked as they arrive; another device cannot write
	// into this session's timeline.
	late := []*console.AgentEvent{
		{DeviceID: d.ID, Key: "b", SID: "sid-1", Type: "chat", Detail: json.RawMessage(`{"text":"hi"}`)},
		{DeviceID: other.ID, Key: "c", SID: "sid-1", Type: "chat", Detail: json.RawMessage(`{"text":"spoof"}`)},
	}
	e.must(s.AppendAgentEvents(ctx, late))
	equal(t, "own device linked, other not", []int64{late[0].SessionID, late[1].SessionID}, []int64{sess.ID, 0})
	timeline, err := s.FindSessionEvents(ctx, console.SessionEventFilter{SessionID: sess.ID})
	e.must(err)
	equal(t, "timeline", len(timeline), 2)
	var detail struct {
		SID    string          `json:"sid"`
		Detail json.RawMessage `json:"detail"`
	}
	e.must(json.Unmarshal(timeline[1].Detail, &detail))
	equal(t, "timeline entry", []any{timeline[1].Source, timeline[1].Type, detail.SID, string(detail.Detail)},
		[]any{console.SourceAgent, "chat", "sid-1", `{"text":"hi"}`})
	// An attended session learns its device from the first enrolled agent
	// that reports on it; after that, other devices are kept out.
	att := &console.Session{Kind: console.SessionAttended, TechnicianID: tech.ID, Consent: console.ConsentPending, RelaySID: "sid-2"}
	e.must(s.CreateSession(ctx, att))
	first := []*console.AgentEvent{{DeviceID: other.ID, Key: "d", SID: "sid-2", Type: "consent", Detail: json.RawMessage(`{"decision":"control"}`)}}
	e.must(s.AppendAgentEvents(ctx, first))
	got, err := s.FindSessionByID(ctx, att.ID)
	e.must(err)
	equal(t, "attended session's device", []int64{first[0].SessionID, got.DeviceID}, []int64{att.ID, other.ID})
	spoof := []*console.AgentEvent{{DeviceID: d.ID, Key: "e", SID: "sid-2", Type: "chat", Detail: json.RawMessage(`{"text":"spoof"}`)}}
	e.must(s.AppendAgentEvents(ctx, spoof))
	equal(t, "another device after the first", spoof[0].SessionID, int64(0))
}

package agentapi

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/reachdesk/reach/console"
	wire "github.com/reachdesk/reach/proto/agentapi"
)

// RequestInventory asks the device for an inventory report now. The
// command is stored, so it reaches the agent at its next poll even across
// console restarts; a request while one is pending is the same request.
func (s *Server) RequestInventory(ctx context.Context, deviceID int64) error {
	c := &console.DeviceCommand{DeviceID: deviceID, Kind: console.CommandInventory}
	if err := s.store.CreateDeviceCommand(ctx, c); err != nil {
		return err
	}
	s.waiters.wake(deviceID)
	return nil
}

// RequestDiagnostics asks the device to run checks (all when empty) and
// returns the request's id; the results are stored with it
// (console.AgentService.FindCommandDiagnostics). Unknown checks are
// refused with console.ErrInvalid.
func (s *Server) RequestDiagnostics(ctx context.Context, deviceID int64, checks []string) (int64, error) {
	for _, ch := range checks {
		if !slices.Contains(wire.DiagChecks, ch) {
			return 0, console.Errorf(console.CodeInvalid, "unknown diagnostic check %q", clip(ch, 64))
		}
	}
	c := &console.DeviceCommand{DeviceID: deviceID, Kind: console.CommandDiagnostics, Checks: slices.Compact(slices.Sorted(slices.Values(checks)))}
	if err := s.store.CreateDeviceCommand(ctx, c); err != nil {
		return 0, err
	}
	s.waiters.wake(deviceID)
	return c.ID, nil
}

// handleCommands is the agent's long poll: it answers at once when
// commands are pending, else when one arrives or after ?wait= (default 50
// s, at most 60 s) with none.
func (s *Server) handleCommands(w http.ResponseWriter, r *http.Request, _ []byte) {
	d := deviceFrom(r.Context())
	wait := DefaultWait
	if v := r.URL.Query().Get("wait"); v != "" {
		var err error
		if wait, err = time.ParseDuration(v); err != nil || wait < 0 || wait > wire.MaxWait {
			writeError(w, http.StatusBadRequest, wire.CodeInvalid, "wait must be a duration up to 60s, e.g. 50s")
			return
		}
	}
	// Subscribe before looking, so that a command created in between wakes
	// this poll.
	wake, cancel := s.waiters.add(d.ID)
	defer cancel()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		cmds, err := s.deliverable(r.Context(), d.ID)
		if err != nil {
			s.writeStoreError(w, "find commands", err)
			return
		}
		if len(cmds) > 0 {
			writeJSON(w, http.StatusOK, wire.CommandsResponse{Commands: cmds})
			return
		}
		select {
		case <-wake:
		case <-timer.C:
			writeJSON(w, http.StatusOK, wire.CommandsResponse{Commands: []wire.Command{}})
			return
		case <-r.Context().Done():
			return
		}
	}
}

// deliverable returns the device's pending commands that were not handed
// out within RedeliverAfter, and marks them delivered.
func (s *Server) deliverable(ctx context.Context, deviceID int64) ([]wire.Command, error) {
	now := s.opts.Now()
	pending, err := s.store.FindPendingCommands(ctx, deviceID, now.Add(-s.opts.CommandTTL))
	if err != nil {
		return nil, err
	}
	var out []wire.Command
	var ids []int64
	for _, c := range pending {
		if !c.DeliveredAt.IsZero() && now.Sub(c.DeliveredAt) < s.opts.RedeliverAfter {
			continue
		}
		out = append(out, wire.Command{ID: c.ID, Kind: string(c.Kind), Checks: c.Checks})
		ids = append(ids, c.ID)
	}
	if len(ids) > 0 {
		if err := s.store.MarkCommandsDelivered(ctx, deviceID, ids, now); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// waiters are the long polls waiting per device.
type waiters struct {
	mu sync.Mutex
	m  map[int64]map[chan struct{}]struct{} // guarded by mu
}

func newWaiters() *waiters { return &waiters{m: map[int64]map[chan struct{}]struct{}{}} }

// add subscribes to wake-ups for device; cancel unsubscribes.
func (ws *waiters) add(device int64) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	ws.mu.Lock()
	set := ws.m[device]
	if set == nil {
		set = map[chan struct{}]struct{}{}
		ws.m[device] = set
	}
	set[ch] = struct{}{}
	ws.mu.Unlock()
	return ch, func() {
		ws.mu.Lock()
		delete(set, ch)
		if len(set) == 0 && ws.m[device] != nil && len(ws.m[device]) == 0 {
			delete(ws.m, device)
		}
		ws.mu.Unlock()
	}
}

// wake wakes every poll of device.
func (ws *waiters) wake(device int64) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	for ch := range ws.m[device] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

package agentapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/reachdesk/reach/console"
	"github.com/reachdesk/reach/console/auth"
	"github.com/reachdesk/reach/console/webhook"
	"github.com/reachdesk/reach/proto"
	wire "github.com/reachdesk/reach/proto/agentapi"
	inv "github.com/reachdesk/reach/proto/inventory"
)

// handleEnroll registers a device with an enrollment token.
func (s *Server) handleEnroll(w http.ResponseWriter, r *http.Request) {
	if !s.limits.allow(false, s.opts.ClientAddr(r)) {
		w.Header().Set("Retry-After", "60")
		writeError(w, http.StatusTooManyRequests, wire.CodeRateLimited, "too many enrollments from this address; retry in a minute")
		return
	}
	body, ok := readBody(w, r, wire.MaxEnrollSize)
	if !ok {
		return
	}
	var req wire.EnrollRequest
	if err := decodeStrict(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, wire.CodeInvalid, "malformed enrollment request")
		return
	}
	if req.Token == "" || len(req.Token) > wire.MaxSecretLen {
		writeError(w, http.StatusBadRequest, wire.CodeInvalid, "an enrollment token is required")
		return
	}
	pub, err := wire.DecodeKey(req.PublicKey)
	if err != nil {
		writeError(w, http.StatusBadRequest, wire.CodeInvalid, err.Error())
		return
	}
	host := cleanName(req.Hostname, console.MaxNameLen)
	// The first report is checked before the token is used, so a bad one
	// costs no use.
	var first *inv.Report
	if len(req.Inventory) > 0 {
		if first, ok = s.decodeReport(w, req.Inventory); !ok {
			return
		}
	}
	name := host
	if name == "" {
		name = "device"
	}
	d := &console.Device{Name: name, Hostname: host, PublicKey: pub}
	if err := s.store.Enroll(r.Context(), auth.HashSecret(req.Token), d); err != nil {
		switch console.ErrorCode(err) {
		case console.CodeUnauthorized:
			writeError(w, http.StatusUnauthorized, wire.CodeEnrollmentRefused, "invalid or expired enrollment token")
		case console.CodeConflict:
			writeError(w, http.StatusConflict, wire.CodeConflict, "this device key is already enrolled")
		default:
			s.writeStoreError(w, "enroll", err)
		}
		return
	}
	s.log.Info("agentapi: device enrolled", "device", d.ID, "group", d.GroupID, "token", d.EnrollmentTokenID)
	tok, exp, err := s.deviceToken(d)
	if err != nil {
		s.writeStoreError(w, "issue device token", err)
		return
	}
	resp := wire.EnrollResponse{DeviceID: deviceIDString(d.ID), Token: tok, ExpiresAt: exp, ConsoleKeys: s.keys,
		RelayURL: s.opts.RelayURL, ReportInterval: int(s.opts.ReportInterval / time.Second)}
	if first != nil {
		// The device exists now whatever happens to its first report; the
		// agent sends a full report again if this one is not acknowledged.
		rr, _, err := s.ingest(r.Context(), d.ID, first, req.Inventory, "")
		if err == nil {
			resp.Inventory = rr
		} else {
			s.log.Warn("agentapi: first inventory not stored", "device", d.ID, "err", err)
		}
	}
	writeJSON(w, http.StatusCreated, resp)
}

// deviceToken issues a relay token for d.
func (s *Server) deviceToken(d *console.Device) (string, time.Time, error) {
	c := proto.Claims{Kind: proto.KindDevice, Name: d.Name}
	c.Subject = deviceIDString(d.ID)
	tok, err := s.signer.Issue(c, proto.AudienceRelay, s.opts.DeviceTokenTTL)
	return tok, s.opts.Now().Add(s.opts.DeviceTokenTTL).UTC().Truncate(time.Second), err
}

// handleToken issues a fresh relay token to a signed-in device.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request, _ []byte) {
	d := deviceFrom(r.Context())
	tok, exp, err := s.deviceToken(d)
	if err != nil {
		s.writeStoreError(w, "issue device token", err)
		return
	}
	writeJSON(w, http.StatusOK, wire.TokenResponse{Token: tok, ExpiresAt: exp, ConsoleKeys: s.keys, RelayURL: s.opts.RelayURL})
}

// decodeReport decodes a full report, answering the error if it is bad.
func (s *Server) decodeReport(w http.ResponseWriter, b []byte) (*inv.Report, bool) {
	rep, err := inv.Decode(b)
	if err != nil {
		writeInventoryError(w, err)
		return nil, false
	}
	return rep, true
}

// writeInventoryError answers a report or delta that failed decoding.
func writeInventoryError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, inv.ErrUnsupportedSchema):
		writeError(w, http.StatusUnprocessableEntity, wire.CodeUnsupported, "this console takes inventory schema 1")
	case errors.Is(err, inv.ErrTooLarge) && !isFieldError(err):
		writeError(w, http.StatusRequestEntityTooLarge, wire.CodeTooLarge, "inventory is too large")
	default:
		writeError(w, http.StatusBadRequest, wire.CodeInvalid, "invalid inventory: "+clip(err.Error(), 300))
	}
}

func isFieldError(err error) bool {
	var fe *inv.FieldError
	return errors.As(err, &fe)
}

// handleReport ingests a full report or a delta.
func (s *Server) handleReport(w http.ResponseWriter, r *http.Request, body []byte) {
	d := deviceFrom(r.Context())
	var req wire.ReportRequest
	if err := decodeStrict(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, wire.CodeInvalid, "malformed report request")
		return
	}
	if !console.ValidIdempotencyKey(req.Key) {
		writeError(w, http.StatusBadRequest, wire.CodeInvalid, "a valid idempotency key is required")
		return
	}
	if (len(req.Full) == 0) == (len(req.Delta) == 0) {
		writeError(w, http.StatusBadRequest, wire.CodeInvalid, "send exactly one of full and delta")
		return
	}
	if s.replay(w, r.Context(), d.ID, req.Key) {
		return
	}
	var rep *inv.Report
	var raw []byte
	if len(req.Full) > 0 {
		var ok bool
		if rep, ok = s.decodeReport(w, req.Full); !ok {
			return
		}
		raw = req.Full // stored as received: Decode checked it whole
	} else {
		var done bool
		if rep, raw, done = s.applyDelta(w, r.Context(), d.ID, req.Delta); done {
			return
		}
	}
	if rep.DeviceID != "" && rep.DeviceID != deviceIDString(d.ID) {
		writeError(w, http.StatusBadRequest, wire.CodeInvalid, "the report names another device")
		return
	}
	if len(raw) > console.MaxInventoryBytes {
		writeError(w, http.StatusRequestEntityTooLarge, wire.CodeTooLarge,
			fmt.Sprintf("inventory over the console's limit of %d bytes", console.MaxInventoryBytes))
		return
	}
	resp, replayed, err := s.ingest(r.Context(), d.ID, rep, raw, req.Key)
	if err != nil {
		s.writeStoreError(w, "ingest inventory", err)
		return
	}
	if replayed != nil { // a concurrent retry of this request was stored first
		writeReceipt(w, replayed)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// applyDelta applies a delta to the stored inventory. It answers the
// request itself (done) when the delta does not fit: a duplicate of the
// delta that produced the stored state is acknowledged again, any other
// mismatch asks for a full report.
func (s *Server) applyDelta(w http.ResponseWriter, ctx context.Context, deviceID int64, b []byte) (*inv.Report, []byte, bool) {
	delta, err := inv.DecodeDelta(b)
	if err != nil {
		writeInventoryError(w, err)
		return nil, nil, true
	}
	mismatch := func(state string) {
		writeJSON(w, http.StatusConflict, wire.Error{Error: wire.ErrorBody{Code: wire.CodeBaseMismatch,
			Message: "the console holds another inventory state; send a full report", State: state}})
	}
	stored, err := s.store.FindInventory(ctx, deviceID)
	if console.ErrorCode(err) == console.CodeNotFound {
		mismatch("")
		return nil, nil, true
	}
	if err != nil {
		s.writeStoreError(w, "find inventory", err)
		return nil, nil, true
	}
	base, err := inv.Decode(stored.Raw)
	if err != nil { // stored under another schema
		mismatch("")
		return nil, nil, true
	}
	state := inv.StateHash(base.Hashes)
	if delta.Base != state {
		if delta.State == state {
			writeJSON(w, http.StatusOK, wire.ReportResponse{State: state})
			return nil, nil, true
		}
		mismatch(state)
		return nil, nil, true
	}
	rep, err := delta.Apply(base)
	if err != nil {
		if errors.Is(err, inv.ErrBaseMismatch) {
			mismatch(state)
		} else {
			writeInventoryError(w, err)
		}
		return nil, nil, true
	}
	raw, err := rep.Encode()
	if err != nil {
		s.writeStoreError(w, "encode inventory", err)
		return nil, nil, true
	}
	return rep, raw, false
}

// ingest stores a report, completes the inventory commands it answers and,
// when key is not empty, stores the request's receipt, all in one
// transaction. If the receipt of key was already stored, nothing is
// ingested and the stored receipt is returned instead.
func (s *Server) ingest(ctx context.Context, deviceID int64, rep *inv.Report, raw []byte, key string) (*wire.ReportResponse, *console.AgentReceipt, error) {
	now := s.opts.Now()
	in, err := toStore(deviceID, rep, raw, now)
	if err != nil {
		return nil, nil, err
	}
	// The report answers the commands made before it was collected.
	in.CompleteCommandsBefore = rep.CollectedAt
	if in.CompleteCommandsBefore.After(now) {
		in.CompleteCommandsBefore = now
	}
	resp := &wire.ReportResponse{State: inv.StateHash(rep.Hashes)}
	if key != "" {
		in.Receipt = &console.IngestReceipt{Key: key, Kind: "report", Status: http.StatusOK,
			Result: func(res *console.IngestResult) (json.RawMessage, error) {
				resp.Changed = res.ChangedSections
				return json.Marshal(resp)
			}}
	}
	res, err := s.store.IngestInventory(ctx, in)
	if err != nil {
		return nil, nil, err
	}
	if res.Replayed != nil {
		return nil, res.Replayed, nil
	}
	resp.Changed = res.ChangedSections
	return resp, nil, nil
}

// replay answers a keyed request from its stored receipt, if there is one.
func (s *Server) replay(w http.ResponseWriter, ctx context.Context, deviceID int64, key string) bool {
	rc, err := s.store.FindAgentReceipt(ctx, deviceID, key)
	switch {
	case err == nil:
		writeReceipt(w, rc)
		return true
	case console.ErrorCode(err) != console.CodeNotFound:
		s.writeStoreError(w, "find receipt", err)
		return true
	}
	return false
}

// writeReceipt answers a request with its stored receipt.
func writeReceipt(w http.ResponseWriter, rc *console.AgentReceipt) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Reach-Replayed", "true")
	w.WriteHeader(rc.Status)
	w.Write(rc.Result)
}

// handleDiagnostics stores the results of a diagnostics run.
func (s *Server) handleDiagnostics(w http.ResponseWriter, r *http.Request, body []byte) {
	d := deviceFrom(r.Context())
	var req wire.DiagnosticsRequest
	if err := decodeStrict(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, wire.CodeInvalid, "malformed diagnostics request")
		return
	}
	if !console.ValidIdempotencyKey(req.Key) {
		writeError(w, http.StatusBadRequest, wire.CodeInvalid, "a valid idempotency key is required")
		return
	}
	if s.replay(w, r.Context(), d.ID, req.Key) {
		return
	}
	rep, err := inv.DecodeDiag(req.Report)
	if err != nil {
		writeInventoryError(w, err)
		return
	}
	var requestedBy int64
	if req.CommandID != 0 {
		c, err := s.store.FindDeviceCommandByID(r.Context(), req.CommandID)
		if err != nil || c.DeviceID != d.ID || c.Kind != console.CommandDiagnostics {
			writeError(w, http.StatusBadRequest, wire.CodeInvalid, "no such diagnostics command for this device")
			return
		}
		requestedBy = c.RequestedBy
	}
	results := make([]*console.DiagnosticResult, 0, len(rep.Results))
	for i := range rep.Results {
		res := &rep.Results[i]
		out, err := json.Marshal(res)
		if err != nil || len(out) > console.MaxDiagnostic {
			writeError(w, http.StatusRequestEntityTooLarge, wire.CodeTooLarge, "a diagnostic result is too large")
			return
		}
		results = append(results, &console.DiagnosticResult{DeviceID: d.ID, Check: res.Check, Status: diagStatus(res.Status),
			Output: out, RequestedBy: requestedBy, StartedAt: rep.CollectedAt,
			FinishedAt: rep.CollectedAt.Add(time.Duration(res.DurationMS) * time.Millisecond)})
	}
	b, _ := json.Marshal(wire.DiagnosticsResponse{Stored: len(results)})
	rc := &console.AgentReceipt{DeviceID: d.ID, Key: req.Key, Kind: "diagnostics", Status: http.StatusOK, Result: b}
	stored, err := s.store.RecordDiagnostics(r.Context(), rc, req.CommandID, results)
	if err != nil {
		s.writeStoreError(w, "record diagnostics", err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(stored.Status)
	w.Write(stored.Result)
}

// handleEvents stores session events.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request, body []byte) {
	d := deviceFrom(r.Context())
	var req wire.EventsRequest
	if err := decodeStrict(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, wire.CodeInvalid, "malformed events request")
		return
	}
	if len(req.Events) == 0 || len(req.Events) > wire.MaxEvents {
		writeError(w, http.StatusBadRequest, wire.CodeInvalid, "send 1 to 500 events")
		return
	}
	// A key that appears twice is one event sent twice: the store marks
	// the second a duplicate.
	events := make([]*console.AgentEvent, len(req.Events))
	for i, e := range req.Events {
		events[i] = &console.AgentEvent{DeviceID: d.ID, Key: e.Key, SID: e.SID, Type: e.Type, At: e.At, Detail: e.Detail}
	}
	if err := s.store.AppendAgentEvents(r.Context(), events); err != nil {
		s.writeStoreError(w, "append agent events", err)
		return
	}
	resp := wire.EventsResponse{Events: make([]wire.EventResult, len(events))}
	var fresh []*console.AgentEvent
	for i, e := range events {
		resp.Events[i] = wire.EventResult{Key: e.Key, ID: e.ID, Duplicate: e.Duplicate}
		if !e.Duplicate {
			fresh = append(fresh, e)
		}
	}
	if len(fresh) > 0 {
		if s.opts.OnEvents != nil {
			if err := s.opts.OnEvents(r.Context(), fresh); err != nil {
				s.log.Warn("agentapi: events hook", "device", d.ID, "err", err)
			}
		} else {
			s.applyEvents(r.Context(), fresh)
		}
	}
	writeJSON(w, http.StatusOK, resp)
}

// applyEvents records what linked events mean for their sessions: a CSAT
// answer, the end of the session.
func (s *Server) applyEvents(ctx context.Context, events []*console.AgentEvent) {
	for _, e := range events {
		if e.SessionID == 0 {
			continue
		}
		switch e.Type {
		case wire.EventCSAT:
			var v struct {
				Score   int    `json:"score"`
				Comment string `json:"comment"`
			}
			if json.Unmarshal(e.Detail, &v) != nil {
				continue
			}
			a := &console.CSATAnswer{SessionID: e.SessionID, Score: v.Score, Comment: v.Comment, AnsweredAt: e.ReceivedAt}
			if err := s.store.RecordCSAT(ctx, a); err == nil {
				s.publish(ctx, webhook.SessionCSAT, map[string]any{"session_id": a.SessionID, "score": a.Score, "comment": a.Comment})
			} else if console.ErrorCode(err) != console.CodeConflict {
				s.log.Warn("agentapi: record CSAT", "session", e.SessionID, "err", err)
			}
		case wire.EventEnd:
			var v struct {
				Reason string `json:"reason"`
			}
			json.Unmarshal(e.Detail, &v)
			reason := cleanName(v.Reason, console.MaxShortLen)
			if reason == "" {
				reason = "ended on the device"
			}
			// Ends the session once and attaches its log to the ticket.
			ended, err := console.EndSession(ctx, s.store, e.SessionID, e.ReceivedAt, reason, 0)
			if err == nil {
				s.publish(ctx, webhook.SessionEnded, map[string]any{"id": ended.ID, "ticket_id": ended.TicketID,
					"device_id": ended.DeviceID, "technician_id": ended.TechnicianID, "ended_at": ended.EndedAt,
					"end_reason": ended.EndReason, "ended_by": "device"})
			} else if console.ErrorCode(err) != console.CodeConflict {
				s.log.Warn("agentapi: end session", "session", e.SessionID, "err", err)
			}
		}
	}
}

// publish sends a webhook event if a publisher is configured.
func (s *Server) publish(ctx context.Context, typ string, data any) {
	if s.opts.Events == nil {
		return
	}
	if err := s.opts.Events.Publish(ctx, webhook.Event{Type: typ, At: s.opts.Now(), Data: data}); err != nil {
		s.log.Warn("agentapi: publish event", "type", typ, "err", err)
	}
}

// cleanName keeps a one-line, printable name of at most n bytes.
func cleanName(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r == unicode.ReplacementChar || unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, ""))
	return clip(strings.Join(strings.Fields(s), " "), n)
}

package relay

import (
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/reachdesk/reach/proto"
)

// auditCapacity bounds the events the relay keeps for the console to pull.
// The console asks every few seconds, so this covers minutes of the
// busiest relay; Lost tells it when it fell behind anyway.
const auditCapacity = 20_000

// auditLog is a bounded ring of audit events, oldest dropped first. Its
// mutex is a leaf: record is called with Server.mu held.
type auditLog struct {
	instance string

	mu     sync.Mutex
	events []proto.AuditEvent // ring of at most auditCapacity; guarded by mu
	start  int                // index of the oldest event in events; guarded by mu
	next   uint64             // sequence number of the next event; guarded by mu
}

func newAuditLog() *auditLog {
	return &auditLog{instance: newID(), next: 1}
}

// record appends e, stamping its sequence number.
func (a *auditLog) record(e proto.AuditEvent) {
	a.mu.Lock()
	defer a.mu.Unlock()
	e.Seq = a.next
	a.next++
	if len(a.events) < auditCapacity {
		a.events = append(a.events, e)
		return
	}
	a.events[a.start] = e
	a.start = (a.start + 1) % len(a.events)
}

// after returns up to limit events with Seq > seq, and whether events after
// seq were already dropped.
func (a *auditLog) after(seq uint64, limit int) (out []proto.AuditEvent, lost bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := len(a.events)
	if n == 0 {
		return nil, false
	}
	oldest := a.events[a.start].Seq
	if seq+1 < oldest {
		lost, seq = true, oldest-1
	}
	for i := int(seq + 1 - oldest); i < n && len(out) < limit; i++ {
		out = append(out, a.events[(a.start+i)%n])
	}
	return out, lost
}

// audit records an event about sess.
func (s *Server) audit(sess *session, typ, detail string) {
	s.auditLog.record(proto.AuditEvent{
		At: s.opts.Now().UTC(), SID: sess.sid, Type: typ,
		Technician: sess.techID, Device: sess.deviceID, Detail: detail,
	})
}

// serveEvents answers GET /v1/events?after=SEQ&limit=N for the console,
// authenticated with a service token like /v1/presence.
func (s *Server) serveEvents(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		writeJSONError(w, http.StatusUnauthorized, proto.Errorf(proto.CodeUnauthorized, "a Bearer service token is required"))
		return
	}
	if _, err := s.verifier.Verify(tok, proto.KindService); err != nil {
		writeJSONError(w, http.StatusUnauthorized, err.(*proto.Error))
		return
	}
	q := r.URL.Query()
	var after uint64
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			writeJSONError(w, http.StatusBadRequest, proto.Errorf(proto.CodeBadRequest, "after must be a sequence number"))
			return
		}
		after = n
	}
	limit := proto.MaxAuditPage
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > proto.MaxAuditPage {
			writeJSONError(w, http.StatusBadRequest, proto.Errorf(proto.CodeBadRequest, "limit must be 1 to %d", proto.MaxAuditPage))
			return
		}
		limit = n
	}
	events, lost := s.auditLog.after(after, limit)
	if events == nil {
		events = []proto.AuditEvent{}
	}
	writeJSON(w, http.StatusOK, &proto.AuditPage{Instance: s.auditLog.instance, Events: events, Lost: lost})
}

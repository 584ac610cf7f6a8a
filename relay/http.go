package relay

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/reachdesk/reach/internal/buildinfo"
	"github.com/reachdesk/reach/proto"
)

// servePresence answers GET /v1/presence?device=ID&device=ID for the console,
// authenticated with a service token in "Authorization: Bearer".
func (s *Server) servePresence(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		writeJSONError(w, http.StatusUnauthorized, proto.Errorf(proto.CodeUnauthorized, "a Bearer service token is required"))
		return
	}
	if _, err := s.verifier.Verify(tok, proto.KindService); err != nil {
		writeJSONError(w, http.StatusUnauthorized, err.(*proto.Error))
		return
	}
	q := &proto.PresenceQuery{DeviceIDs: r.URL.Query()["device"]}
	if err := q.Validate(); err != nil {
		writeJSONError(w, http.StatusBadRequest, err.(*proto.Error))
		return
	}
	writeJSON(w, http.StatusOK, s.presence(q.DeviceIDs))
}

// presence reports which of ids are online, in order.
func (s *Server) presence(ids []string) *proto.Presence {
	out := &proto.Presence{Devices: make([]proto.DevicePresence, len(ids))}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, id := range ids {
		out.Devices[i] = proto.DevicePresence{ID: id}
		if p := s.agents[id]; p != nil {
			since := p.since
			out.Devices[i].Online = true
			out.Devices[i].Since = &since
		}
	}
	return out
}

func (s *Server) serveHealth(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, struct {
		Status  string `json:"status"`
		Version string `json:"version"`
		Stats
	}{"ok", buildinfo.Version, s.Stats()})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeJSONError(w http.ResponseWriter, status int, e *proto.Error) {
	writeJSON(w, status, proto.ErrorBody{Code: e.Code, Message: e.Msg})
}

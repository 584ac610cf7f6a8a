package agentapi

import (
	"crypto/sha256"
	"net/http"
	"strconv"

	"github.com/reachdesk/reach/console"
	"github.com/reachdesk/reach/proto"
	wire "github.com/reachdesk/reach/proto/agentapi"
)

// handleQuick registers a quick-support agent's ephemeral key for the
// session code its end user typed, and gives the agent a relay token.
// Unauthenticated by nature, it is rate-limited per address and globally;
// the key expires with the code (proto.DefaultCodeTTL), and the first key
// registered for a code stays.
func (s *Server) handleQuick(w http.ResponseWriter, r *http.Request) {
	if !s.limits.allow(true, s.opts.ClientAddr(r)) {
		w.Header().Set("Retry-After", "60")
		writeError(w, http.StatusTooManyRequests, wire.CodeRateLimited, "too many requests; retry in a minute")
		return
	}
	body, ok := readBody(w, r, wire.MaxQuickSize)
	if !ok {
		return
	}
	var req wire.QuickRequest
	if err := decodeStrict(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, wire.CodeInvalid, "malformed quick-support request")
		return
	}
	if !proto.ValidCode(req.Code) {
		writeError(w, http.StatusBadRequest, wire.CodeInvalid, "the code must be "+strconv.Itoa(proto.CodeDigits)+" digits")
		return
	}
	pub, err := wire.DecodeKey(req.PublicKey)
	if err != nil {
		writeError(w, http.StatusBadRequest, wire.CodeInvalid, err.Error())
		return
	}
	h := sha256.Sum256([]byte(req.Code))
	k := &console.QuickKey{CodeHash: h[:], PublicKey: pub, ExpiresAt: s.opts.Now().Add(proto.DefaultCodeTTL)}
	if err := s.store.CreateQuickKey(r.Context(), k); err != nil {
		s.writeStoreError(w, "create quick key", err)
		return
	}
	c := proto.Claims{Kind: proto.KindDevice, Name: "Quick support"}
	c.Subject = "quick-" + strconv.FormatInt(k.ID, 10)
	tok, err := s.signer.Issue(c, proto.AudienceRelay, proto.MaxCodeTTL)
	if err != nil {
		s.writeStoreError(w, "issue quick token", err)
		return
	}
	writeJSON(w, http.StatusCreated, wire.QuickResponse{ExpiresAt: k.ExpiresAt, Token: tok, ConsoleKeys: s.keys, RelayURL: s.opts.RelayURL})
}

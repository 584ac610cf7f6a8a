// Package enduser is the end user's side of the agent in a web browser: a
// small HTTP server on 127.0.0.1 that serves the embedded end-user pages
// (web/enduser) behind an unguessable URL token. It asks for a session code,
// implements consent.Prompter with a dialog that names the technician, the
// organisation and the ticket and denies when its countdown runs out, shows
// the "session active — Stop" indicator with revoke and chat, and asks the
// 1–5 satisfaction question after the session.
//
// The page learns the state from Server-Sent Events (a JSON snapshot per
// change) and acts with JSON POSTs. Every request must carry the URL token,
// name the server's own loopback address as Host (no DNS rebinding) and, when
// it changes something, be a same-origin JSON request (no cross-site forms).
// Responses carry a strict Content-Security-Policy: the page runs only its
// own script and never renders what the relay or technician sent as markup.
package enduser

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/reachdesk/reach/agent/consent"
	"github.com/reachdesk/reach/agent/session"
	"github.com/reachdesk/reach/proto"
)

//go:embed assets
var assets embed.FS

// CSP is the Content-Security-Policy of every response: the page's own
// script and style only, no inline code, no eval, connections to itself.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// Limits on what the page may send.
const (
	maxBody      = 16 << 10 // one JSON action
	maxChatLines = 200      // transcript kept per session
	csatWindow   = 10 * time.Minute
	maxSessions  = 16 // ended sessions remembered for their CSAT answer
)

// Errors the page sees (as {"error": "..."}).
var (
	errNoSuchPrompt  = errors.New("this question was already answered or has expired")
	errNoSuchSession = errors.New("no such session")
	errCodeEntry     = errors.New("this agent is not waiting for a session code")
	errCSATClosed    = errors.New("this session does not take a rating (any more)")
)

// Controller is a running session the page acts on; *session.Session
// implements it.
type Controller interface {
	Stop()
	Revoke()
	SendChat(text string) error
}

// Options are optional. Zero values take the defaults noted.
type Options struct {
	// Join redeems a session code typed in the page; nil means the page
	// offers no code entry (the code came from elsewhere, or the agent only
	// takes unattended connects). It returns once the relay accepted the
	// code (the consent question follows) or with the error to show.
	Join func(ctx context.Context, code string) error
	// Lookup finds a running session by id for stop, revoke and chat; nil
	// means those actions fail.
	Lookup func(sid string) Controller
	// OnCSAT receives the end user's 1–5 answer for a session that was
	// active. It must not block for long. Nil drops answers.
	OnCSAT func(sid string, score int)
	// Logger; nil means slog.Default(). The URL token is never logged.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Server serves the end-user pages; create it with New.
type Server struct {
	addr   string // host:port the page is reached at
	token  string // path prefix /token/
	opts   Options
	log    *slog.Logger
	static http.Handler

	mu        sync.Mutex // guards everything below
	version   int
	changed   chan struct{} // closed and replaced on every change
	launch    string        // one-time launch token; "" once used
	codeEntry bool
	joining   bool
	joinErr   string
	prompts   []*prompt // open consent questions, oldest first
	sessions  map[string]*sessionView
	order     []string // session ids, oldest first
	clients   int      // open event streams
	followed  bool     // a page has opened an event stream
}

type prompt struct {
	id       string
	req      consent.Request
	deadline time.Time
	answer   chan proto.Decision // buffered 1
}

type sessionView struct {
	SID         string             `json:"sid"`
	State       session.State      `json:"state"`
	Technician  proto.Person       `json:"technician"`
	Ticket      *proto.TicketRef   `json:"ticket"`
	Permissions []proto.Permission `json:"permissions"`
	Reason      string             `json:"reason"`
	Failed      bool               `json:"failed"`
	Chat        []chatLine         `json:"chat"`
	CSAT        string             `json:"csat"` // none, ask, done

	wasActive bool
	endedAt   time.Time
	csatDone  chan struct{} // closed when answered or skipped
}

type chatLine struct {
	From string `json:"from"` // technician or user
	Text string `json:"text"`
}

// New returns a server reached at addr (the loopback host:port its
// listener is bound to); serve it with http.Server on that listener.
func New(addr string, opts Options) (*Server, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("enduser: address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("enduser: %q is not a loopback address", addr)
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		return nil, fmt.Errorf("enduser: assets: %w", err)
	}
	return &Server{
		addr: addr, token: randomToken(), opts: opts, log: opts.Logger,
		static:    http.FileServerFS(sub),
		changed:   make(chan struct{}),
		launch:    randomToken(),
		codeEntry: opts.Join != nil,
		sessions:  map[string]*sessionView{},
	}, nil
}

// randomToken returns 256 random bits, URL-safe.
func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// URL is the page's address, token included. Show it only to the end user
// (their terminal): whoever has it can answer consent questions.
func (s *Server) URL() string { return "http://" + s.addr + "/" + s.token + "/" }

// LaunchURL is a one-time address that redirects to URL. Hand it to the
// browser on a command line (xdg-open), where other local users could read
// it: once opened it is worthless.
func (s *Server) LaunchURL() string { return "http://" + s.addr + "/launch/" + s.launch }

// Clients returns how many pages follow the state now.
func (s *Server) Clients() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clients
}

// Followed reports whether a page has ever followed the state: someone
// may be about to answer the satisfaction question even while their page
// reconnects.
func (s *Server) Followed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.followed
}

// changeLocked wakes every event stream.
func (s *Server) changeLocked() {
	s.version++
	close(s.changed)
	s.changed = make(chan struct{})
}

// Ask implements consent.Prompter: it shows the question in the page and
// returns the end user's answer, or deny with ctx's error when ctx ends
// (consent.Decide applies the timeout through ctx).
func (s *Server) Ask(ctx context.Context, r consent.Request) (proto.Decision, error) {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = s.opts.Now().Add(proto.DefaultConsentWait)
	}
	p := &prompt{id: randomToken()[:16], req: r, deadline: deadline, answer: make(chan proto.Decision, 1)}
	s.mu.Lock()
	s.prompts = append(s.prompts, p)
	s.changeLocked()
	s.mu.Unlock()
	defer s.dropPrompt(p)
	select {
	case d := <-p.answer:
		return d, nil
	case <-ctx.Done():
		return proto.DecisionDeny, ctx.Err()
	}
}

func (s *Server) dropPrompt(p *prompt) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, q := range s.prompts {
		if q == p {
			s.prompts = append(s.prompts[:i:i], s.prompts[i+1:]...)
			s.changeLocked()
			return
		}
	}
}

// Status follows a session's state (session.Options.OnStatus).
func (s *Server) Status(st session.Status) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.sessions[st.SID]
	if v == nil {
		v = &sessionView{SID: st.SID, CSAT: "none", Chat: []chatLine{}, csatDone: make(chan struct{})}
		s.sessions[st.SID] = v
		s.order = append(s.order, st.SID)
		s.forgetLocked()
	}
	v.State, v.Technician, v.Ticket, v.Reason = st.State, st.Technician, st.Ticket, st.Reason
	v.Permissions = append([]proto.Permission{}, st.Permissions...)
	v.Failed = st.Err != nil
	if st.State == session.StateActive {
		v.wasActive = true
	}
	if st.State == session.StateEnded && v.endedAt.IsZero() {
		v.endedAt = s.opts.Now()
		if v.wasActive && s.opts.OnCSAT != nil {
			v.CSAT = "ask"
		} else {
			close(v.csatDone)
		}
	}
	s.changeLocked()
}

// forgetLocked drops the oldest ended sessions beyond maxSessions.
func (s *Server) forgetLocked() {
	for len(s.order) > maxSessions {
		old := s.sessions[s.order[0]]
		if old != nil && old.State != session.StateEnded {
			return
		}
		delete(s.sessions, s.order[0])
		s.order = s.order[1:]
	}
}

// Chat shows a technician's chat line (session.Options.OnChat).
func (s *Server) Chat(sid, text string) {
	s.addChat(sid, "technician", text)
}

func (s *Server) addChat(sid, from, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.sessions[sid]
	if v == nil {
		return
	}
	if len(v.Chat) >= maxChatLines {
		v.Chat = append(v.Chat[:0:0], v.Chat[len(v.Chat)-maxChatLines+1:]...)
	}
	v.Chat = append(v.Chat, chatLine{From: from, Text: text})
	s.changeLocked()
}

// SetCodeEntry says whether the page offers code entry (Options.Join must
// be set for it to work); join turns it off once a code was accepted.
func (s *Server) SetCodeEntry(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codeEntry = on && s.opts.Join != nil
	s.changeLocked()
}

// WaitCSAT waits until the end user rated session sid or skipped the
// question, the question closed, or ctx ended. It returns at once for a
// session that will not be rated (never active, unknown, or no OnCSAT).
func (s *Server) WaitCSAT(ctx context.Context, sid string) {
	s.mu.Lock()
	v := s.sessions[sid]
	s.mu.Unlock()
	if v == nil {
		return
	}
	t := time.NewTimer(csatWindow)
	defer t.Stop()
	select {
	case <-v.csatDone:
	case <-ctx.Done():
	case <-t.C:
	}
}

// snapshot is the page's state.
type snapshot struct {
	Version   int          `json:"version"`
	CodeEntry bool         `json:"code_entry"`
	Joining   bool         `json:"joining"`
	JoinError string       `json:"join_error"`
	Prompt    *promptView  `json:"prompt"`
	Session   *sessionView `json:"session"`
}

type promptView struct {
	ID          string           `json:"id"`
	Technician  proto.Person     `json:"technician"`
	Ticket      *proto.TicketRef `json:"ticket"`
	Control     bool             `json:"control"`
	Unattended  bool             `json:"unattended"`
	RemainingMS int64            `json:"remaining_ms"`
	TimeoutMS   int64            `json:"timeout_ms"`
}

// snapshotLocked shows the oldest open question and the newest session.
func (s *Server) snapshotLocked() snapshot {
	snap := snapshot{Version: s.version, CodeEntry: s.codeEntry, Joining: s.joining, JoinError: s.joinErr}
	if len(s.prompts) > 0 {
		p := s.prompts[0]
		timeout := p.req.Timeout
		if timeout <= 0 || timeout > proto.DefaultConsentWait {
			timeout = proto.DefaultConsentWait
		}
		snap.Prompt = &promptView{
			ID: p.id, Technician: p.req.Technician, Ticket: p.req.Ticket,
			Control:     proto.HasPermission(p.req.Permissions, proto.PermControl),
			Unattended:  p.req.Unattended,
			RemainingMS: max(0, p.deadline.Sub(s.opts.Now()).Milliseconds()),
			TimeoutMS:   timeout.Milliseconds(),
		}
	}
	// A running session wins over an ended one.
	for i := len(s.order) - 1; i >= 0; i-- {
		v := s.sessions[s.order[i]]
		if snap.Session == nil || (snap.Session.State == session.StateEnded && v.State != session.StateEnded) {
			cp := *v
			cp.Chat = append([]chatLine{}, v.Chat...)
			if cp.Permissions == nil {
				cp.Permissions = []proto.Permission{}
			}
			snap.Session = &cp
		}
	}
	return snap
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", CSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	if r.Host != s.addr {
		httpError(w, http.StatusMisdirectedRequest, errors.New("wrong host"))
		return
	}
	if launch, ok := strings.CutPrefix(r.URL.Path, "/launch/"); ok && r.Method == http.MethodGet {
		s.mu.Lock()
		valid := s.launch != "" && subtle.ConstantTimeCompare([]byte(launch), []byte(s.launch)) == 1
		if valid {
			s.launch = ""
		}
		s.mu.Unlock()
		if !valid {
			httpError(w, http.StatusNotFound, errors.New("this link was already used: open the address the agent printed"))
			return
		}
		http.Redirect(w, r, "/"+s.token+"/", http.StatusSeeOther)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/")
	tok, rest, _ := strings.Cut(rest, "/")
	if !ok || subtle.ConstantTimeCompare([]byte(tok), []byte(s.token)) != 1 {
		httpError(w, http.StatusNotFound, errors.New("not found"))
		return
	}
	if rest == "" && !strings.HasSuffix(r.URL.Path, "/") {
		http.Redirect(w, r, "/"+s.token+"/", http.StatusSeeOther)
		return
	}
	if api, ok := strings.CutPrefix(rest, "api/"); ok {
		s.serveAPI(w, r, api)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		httpError(w, http.StatusMethodNotAllowed, errors.New("method not allowed"))
		return
	}
	switch rest {
	case "", "index.html", "enduser.js", "enduser.css":
	default:
		httpError(w, http.StatusNotFound, errors.New("not found"))
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = "/" + rest
	s.static.ServeHTTP(w, r2)
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, name string) {
	if r.Method == http.MethodGet {
		switch name {
		case "state":
			s.mu.Lock()
			snap := s.snapshotLocked()
			s.mu.Unlock()
			writeJSON(w, snap)
		case "events":
			s.events(w, r)
		default:
			httpError(w, http.StatusNotFound, errors.New("not found"))
		}
		return
	}
	if r.Method != http.MethodPost {
		httpError(w, http.StatusMethodNotAllowed, errors.New("method not allowed"))
		return
	}
	// Cross-site requests cannot send JSON without a preflight we never
	// answer; browsers that say where a request comes from must say "us".
	if ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); strings.TrimSpace(ct) != "application/json" {
		httpError(w, http.StatusUnsupportedMediaType, errors.New("send JSON"))
		return
	}
	if o := r.Header.Get("Origin"); o != "" && o != "http://"+s.addr {
		httpError(w, http.StatusForbidden, errors.New("cross-origin request refused"))
		return
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		httpError(w, http.StatusForbidden, errors.New("cross-site request refused"))
		return
	}
	var body struct {
		ID       string `json:"id"`
		SID      string `json:"sid"`
		Decision string `json:"decision"`
		Timeout  bool   `json:"timeout"`
		Code     string `json:"code"`
		Text     string `json:"text"`
		Score    int    `json:"score"`
		Skip     bool   `json:"skip"`
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		httpError(w, http.StatusBadRequest, errors.New("bad request"))
		return
	}
	var err error
	switch name {
	case "consent":
		err = s.answer(body.ID, body.Decision)
	case "join":
		err = s.join(r.Context(), body.Code)
	case "stop", "revoke":
		c := s.lookup(body.SID)
		if c == nil {
			err = errNoSuchSession
		} else if name == "stop" {
			c.Stop()
		} else {
			c.Revoke()
		}
	case "chat":
		err = s.chat(body.SID, body.Text)
	case "csat":
		err = s.csat(body.SID, body.Score, body.Skip)
	default:
		httpError(w, http.StatusNotFound, errors.New("not found"))
		return
	}
	if err != nil {
		status := http.StatusBadRequest
		switch {
		case errors.Is(err, errNoSuchPrompt), errors.Is(err, errNoSuchSession), errors.Is(err, errCSATClosed):
			status = http.StatusConflict
		case errors.Is(err, errCodeEntry):
			status = http.StatusNotFound
		}
		httpError(w, status, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) lookup(sid string) Controller {
	if s.opts.Lookup == nil || sid == "" {
		return nil
	}
	return s.opts.Lookup(sid)
}

func (s *Server) answer(id, decision string) error {
	var d proto.Decision
	switch decision {
	case "view":
		d = proto.DecisionView
	case "control":
		d = proto.DecisionControl
	case "deny":
		d = proto.DecisionDeny
	default:
		return errors.New("decision must be view, control or deny")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.prompts {
		if p.id == id {
			select {
			case p.answer <- d:
				return nil
			default:
				return errNoSuchPrompt // answered twice
			}
		}
	}
	return errNoSuchPrompt
}

func (s *Server) join(ctx context.Context, code string) error {
	if !proto.ValidCode(code) {
		return errors.New("a session code has 9 digits")
	}
	s.mu.Lock()
	if !s.codeEntry || s.joining {
		s.mu.Unlock()
		return errCodeEntry
	}
	s.joining, s.joinErr = true, ""
	s.changeLocked()
	s.mu.Unlock()
	// The relay answers within seconds; the page's request is the bound.
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err := s.opts.Join(ctx, code)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.joining = false
	if err != nil {
		s.joinErr = joinMessage(err)
		s.changeLocked()
		return errors.New(s.joinErr)
	}
	s.codeEntry = false
	s.changeLocked()
	return nil
}

// joinMessage says why a code was not accepted without internal detail.
func joinMessage(err error) string {
	var pe *proto.Error
	switch {
	case errors.As(err, &pe) && pe.Code == proto.CodeInvalidCode, errors.Is(err, proto.ErrInvalidCode):
		return "This code is invalid or has expired. Ask your technician for a new one."
	case errors.As(err, &pe) && pe.Code == proto.CodeRateLimited:
		return "Too many attempts. Wait a few minutes, then try again."
	case errors.Is(err, session.ErrNotConnected), errors.Is(err, context.DeadlineExceeded):
		return "Cannot reach the help desk's server. Check the network connection and try again."
	}
	return "The code could not be checked. Try again."
}

func (s *Server) chat(sid, text string) error {
	text = strings.TrimSpace(text)
	if text == "" || len(text) > proto.MaxChat || !utf8.ValidString(text) {
		return fmt.Errorf("a message is 1 to %d bytes of text", proto.MaxChat)
	}
	c := s.lookup(sid)
	if c == nil {
		return errNoSuchSession
	}
	if err := c.SendChat(text); err != nil {
		s.log.Debug("enduser: chat not sent", "sid", sid, "err", err)
		return errors.New("the message could not be sent: the chat is not open yet")
	}
	s.addChat(sid, "user", text)
	return nil
}

func (s *Server) csat(sid string, score int, skip bool) error {
	if !skip && (score < 1 || score > 5) {
		return errors.New("the rating is a number from 1 to 5")
	}
	s.mu.Lock()
	v := s.sessions[sid]
	if v == nil || v.CSAT != "ask" || s.opts.Now().Sub(v.endedAt) > csatWindow {
		s.mu.Unlock()
		return errCSATClosed
	}
	v.CSAT = "done"
	s.changeLocked()
	s.mu.Unlock()
	// The answer is handed on before WaitCSAT returns, so that a caller
	// that exits after it has the answer queued.
	if !skip {
		s.opts.OnCSAT(sid, score)
	}
	close(v.csatDone)
	return nil
}

// events streams a snapshot now and after every change.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	s.mu.Lock()
	s.clients++
	s.followed = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.clients--
		s.mu.Unlock()
	}()
	// A countdown is shown from remaining_ms: resend it now and then so a
	// late page stays in step.
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		s.mu.Lock()
		snap, changed := s.snapshotLocked(), s.changed
		s.mu.Unlock()
		data, err := json.Marshal(snap)
		if err != nil {
			return
		}
		if _, err := fmt.Fprintf(w, "data: %s\n\n", data); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
		select {
		case <-changed:
		case <-tick.C:
		case <-r.Context().Done():
			return
		}
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func httpError(w http.ResponseWriter, status int, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
}

// Package agentapi serves the console's device-facing HTTP API under
// /agent/v1/ (docs/agent-api.md): enrollment, relay-token refresh,
// inventory reports and deltas, diagnostics results, session events, the
// long-poll command channel, and quick-support key registration.
//
// Agents are untrusted: every body is bounded before it is read, decoded
// strictly and validated; stored documents are kept as data and never
// interpreted as markup. Enrolled agents sign each request with their
// device key (proto/agentapi); keyed requests are answered once and then
// replayed from the stored receipt, so an agent's outbox delivers each item
// exactly once.
package agentapi

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/reachdesk/reach/console"
	"github.com/reachdesk/reach/console/signing"
	"github.com/reachdesk/reach/console/webhook"
	wire "github.com/reachdesk/reach/proto/agentapi"
)

// Defaults for Options.
const (
	DefaultDeviceTokenTTL = 12 * time.Hour
	DefaultReportInterval = time.Hour
	DefaultCommandTTL     = 24 * time.Hour
	DefaultRedeliverAfter = 5 * time.Minute
	DefaultPollInterval   = 2 * time.Second
	DefaultWait           = 50 * time.Second
	receiptRetention      = 30 * 24 * time.Hour
)

// Options are optional. Zero values take the defaults noted.
type Options struct {
	// RelayURL is the relay's base URL handed to agents (wss://…); empty
	// leaves them to their own configuration.
	RelayURL string
	// ConsoleKeys are the public keys agents trust for session grants;
	// nil means the signer's key alone. List the next key here before a
	// rotation.
	ConsoleKeys []ed25519.PublicKey
	// DeviceTokenTTL is the lifetime of relay tokens for devices (at most
	// 24 h); zero means DefaultDeviceTokenTTL.
	DeviceTokenTTL time.Duration
	// ReportInterval is the inventory interval agents are told; zero means
	// DefaultReportInterval.
	ReportInterval time.Duration
	// CommandTTL: commands older than this are no longer delivered; zero
	// means DefaultCommandTTL.
	CommandTTL time.Duration
	// RedeliverAfter: a command delivered but not answered is delivered
	// again after this; zero means DefaultRedeliverAfter.
	RedeliverAfter time.Duration
	// PollInterval is how often Run looks for commands created by other
	// console nodes; zero means DefaultPollInterval.
	PollInterval time.Duration
	// EnrollLimit and QuickLimit bound unauthenticated requests per client
	// address (per minute, with a burst of the same size); zero means 10
	// and 20. GlobalQuickLimit bounds quick registrations from everyone per
	// minute; zero means 600.
	EnrollLimit, QuickLimit, GlobalQuickLimit int
	// ClientAddr returns a request's client address for rate limits; nil
	// means the host of RemoteAddr (set it when behind a trusted proxy).
	ClientAddr func(r *http.Request) string
	// OnEvents is called with the new (not duplicate) events an agent
	// reported, after they are stored, so that the session layer can act on
	// session ends and CSAT. Nil means agentapi records CSAT answers and
	// session ends itself.
	OnEvents func(ctx context.Context, events []*console.AgentEvent) error
	// Events receives the webhook events of what agents report (a session
	// the device ended, a CSAT answer); nil publishes none.
	Events Publisher
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger; nil means slog.Default(). Secrets and tokens are never logged.
	Logger *slog.Logger
}

// Publisher receives webhook events; *webhook.Dispatcher implements it.
type Publisher interface {
	Publish(ctx context.Context, e webhook.Event) error
}

// Server is the device-facing API. It is an http.Handler for the paths
// under /agent/v1/; Run keeps its background work going.
type Server struct {
	store  console.Store
	signer *signing.Signer
	opts   Options
	keys   []string // console keys, encoded
	log    *slog.Logger
	mux    *http.ServeMux

	nonces  *nonceCache
	waiters *waiters
	limits  *limits

	touchMu sync.Mutex
	touched map[int64]time.Time // guarded by touchMu: last TouchDevice per device
}

// New returns a Server over store that issues relay tokens with signer.
func New(store console.Store, signer *signing.Signer, opts Options) (*Server, error) {
	if store == nil || signer == nil {
		return nil, errors.New("agentapi: a store and a signer are required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.DeviceTokenTTL <= 0 {
		opts.DeviceTokenTTL = DefaultDeviceTokenTTL
	}
	if opts.DeviceTokenTTL > 24*time.Hour {
		return nil, errors.New("agentapi: device tokens may live at most 24 h")
	}
	if opts.ReportInterval <= 0 {
		opts.ReportInterval = DefaultReportInterval
	}
	if opts.CommandTTL <= 0 {
		opts.CommandTTL = DefaultCommandTTL
	}
	if opts.RedeliverAfter <= 0 {
		opts.RedeliverAfter = DefaultRedeliverAfter
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if opts.ClientAddr == nil {
		opts.ClientAddr = remoteHost
	}
	keys := opts.ConsoleKeys
	if len(keys) == 0 {
		keys = []ed25519.PublicKey{signer.PublicKey()}
	}
	s := &Server{store: store, signer: signer, opts: opts, log: opts.Logger, mux: http.NewServeMux(),
		nonces: newNonceCache(), waiters: newWaiters(), touched: map[int64]time.Time{},
		limits: newLimits(opts.EnrollLimit, opts.QuickLimit, opts.GlobalQuickLimit, opts.Now)}
	for _, k := range keys {
		s.keys = append(s.keys, wire.EncodeKey(k))
	}
	s.mux.HandleFunc("POST "+wire.PathEnroll, s.handleEnroll)
	s.mux.HandleFunc("POST "+wire.PathQuick, s.handleQuick)
	s.mux.Handle("GET "+wire.PathToken, s.signed(0, s.handleToken))
	s.mux.Handle("POST "+wire.PathReports, s.signed(wire.MaxReportSize, s.handleReport))
	s.mux.Handle("POST "+wire.PathDiagnostics, s.signed(wire.MaxDiagSize, s.handleDiagnostics))
	s.mux.Handle("POST "+wire.PathEvents, s.signed(wire.MaxEventsSize, s.handleEvents))
	s.mux.Handle("GET "+wire.PathCommands, s.signed(0, s.handleCommands))
	s.mux.HandleFunc(wire.Prefix, func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, wire.CodeInvalid, "no such endpoint")
	})
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	s.mux.ServeHTTP(w, r)
}

// Run wakes long polls for commands created on other console nodes and
// prunes old receipts and expired quick keys, until ctx ends. Without Run,
// commands created through this Server are still delivered at once and
// others at the agent's next poll.
func (s *Server) Run(ctx context.Context) error {
	_, last, err := s.store.CommandDevicesAfter(ctx, 0)
	if err != nil {
		s.log.Warn("agentapi: read commands", "err", err)
	}
	poll := time.NewTicker(s.opts.PollInterval)
	defer poll.Stop()
	prune := time.NewTicker(time.Hour)
	defer prune.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-poll.C:
			devices, max, err := s.store.CommandDevicesAfter(ctx, last)
			if err != nil {
				if ctx.Err() == nil {
					s.log.Warn("agentapi: read commands", "err", err)
				}
				continue
			}
			last = max
			for _, d := range devices {
				s.waiters.wake(d)
			}
		case <-prune.C:
			now := s.opts.Now()
			if _, err := s.store.DeleteAgentReceipts(ctx, now.Add(-receiptRetention)); err != nil {
				s.log.Warn("agentapi: prune receipts", "err", err)
			}
			if _, err := s.store.DeleteExpiredQuickKeys(ctx, now); err != nil {
				s.log.Warn("agentapi: prune quick keys", "err", err)
			}
			s.nonces.sweep(now)
		}
	}
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// writeError writes an error body.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, wire.Error{Error: wire.ErrorBody{Code: code, Message: msg}})
}

// writeStoreError maps a store error to an answer; internal details are
// logged, never sent.
func (s *Server) writeStoreError(w http.ResponseWriter, op string, err error) {
	switch console.ErrorCode(err) {
	case console.CodeInvalid:
		writeError(w, http.StatusBadRequest, wire.CodeInvalid, console.ErrorMessage(err))
	case console.CodeNotFound:
		writeError(w, http.StatusNotFound, wire.CodeInvalid, console.ErrorMessage(err))
	case console.CodeConflict:
		writeError(w, http.StatusConflict, wire.CodeConflict, console.ErrorMessage(err))
	case console.CodeUnauthorized:
		writeError(w, http.StatusUnauthorized, wire.CodeUnauthorized, console.ErrorMessage(err))
	default:
		s.log.Error("agentapi: "+op, "err", err)
		writeError(w, http.StatusInternalServerError, wire.CodeInternal, "internal error")
	}
}

// readBody reads at most max bytes of r's body; it answers 413 and returns
// false beyond.
func readBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, bool) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, wire.CodeTooLarge, fmt.Sprintf("body over %d bytes", max))
		} else {
			writeError(w, http.StatusBadRequest, wire.CodeInvalid, "could not read the body")
		}
		return nil, false
	}
	return b, true
}

// decodeStrict decodes one JSON object into v, refusing unknown fields and
// trailing data.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytesReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}

// deviceIDString is a device id as it appears in tokens and on the wire.
func deviceIDString(id int64) string { return strconv.FormatInt(id, 10) }

package agentapi_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reachdesk/reach/agent/enroll"
	"github.com/reachdesk/reach/console"
	"github.com/reachdesk/reach/console/agentapi"
	"github.com/reachdesk/reach/console/auth"
	"github.com/reachdesk/reach/console/signing"
	"github.com/reachdesk/reach/console/sqlite"
	"github.com/reachdesk/reach/proto"
	wire "github.com/reachdesk/reach/proto/agentapi"
	inv "github.com/reachdesk/reach/proto/inventory"
)

// clock is a settable clock shared by the store and the API.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is a console (real SQLite file) with the agent API on a loopback
// HTTP server.
type env struct {
	t      testing.TB
	ctx    context.Context
	store  *sqlite.DB
	api    *agentapi.Server
	srv    *httptest.Server
	clock  *clock
	signer *signing.Signer
	group  *console.DeviceGroup
}

func newEnv(t testing.TB, opts agentapi.Options) *env {
	t.Helper()
	ctx := context.Background()
	c := &clock{t: time.Now().UTC().Truncate(time.Second)}
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "console.db"), sqlite.Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	signer := signing.New(key, c.Now)
	opts.Now = c.Now
	if opts.RelayURL == "" {
		opts.RelayURL = "wss://relay.example"
	}
	api, err := agentapi.New(db, signer, opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	g := &console.DeviceGroup{Name: "Laptops"}
	if err := db.CreateDeviceGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	return &env{t: t, ctx: ctx, store: db, api: api, srv: srv, clock: c, signer: signer, group: g}
}

// token creates an enrollment token and returns its secret.
func (e *env) token(mod func(*console.EnrollmentToken)) string {
	e.t.Helper()
	secret, err := auth.NewSecret()
	if err != nil {
		e.t.Fatal(err)
	}
	tok := &console.EnrollmentToken{GroupID: e.group.ID, Name: "t", SecretHash: auth.HashSecret(secret),
		ExpiresAt: e.clock.Now().Add(time.Hour), MaxUses: 5}
	if mod != nil {
		mod(tok)
	}
	if err := e.store.CreateEnrollmentToken(e.ctx, tok); err != nil {
		e.t.Fatal(err)
	}
	return secret
}

// report returns a sealed report from the schema's example.
func report(t testing.TB) *inv.Report {
	t.Helper()
	b, err := os.ReadFile("../../proto/inventory/testdata/report.json")
	if err != nil {
		t.Fatal(err)
	}
	r, err := inv.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	r.DeviceID = ""
	return r
}

// enroll enrolls a device into a fresh state directory.
func (e *env) enroll(inventory []byte) (*enroll.Result, *enroll.Client) {
	e.t.Helper()
	res, err := enroll.Enroll(e.ctx, enroll.Options{Server: e.srv.URL, Token: e.token(nil), Dir: filepath.Join(e.t.TempDir(), "state"),
		Hostname: "ws-1", Inventory: inventory, Now: e.clock.Now})
	if err != nil {
		e.t.Fatal(err)
	}
	return res, enroll.NewClient(res.State, enroll.ClientOptions{Now: e.clock.Now})
}

func TestEnroll(t *testing.T) {
	e := newEnv(t, agentapi.Options{})
	rep := report(t)
	raw, _ := json.Marshal(rep)
	res, _ := e.enroll(raw)
	st := res.State
	d, err := e.store.FindDeviceByID(e.ctx, st.DeviceID)
	if err != nil {
		t.Fatal(err)
	}
	if !d.PublicKey.Equal(st.Key.Public()) || d.Name != "ws-1" || d.GroupID != e.group.ID {
		t.Errorf("device %+v does not match the enrolled identity", d)
	}
	if res.Inventory == nil || res.Inventory.State != inv.StateHash(rep.Hashes) {
		t.Errorf("first inventory answer %+v, want state %s", res.Inventory, inv.StateHash(rep.Hashes))
	}
	if _, err := e.store.FindInventory(e.ctx, st.DeviceID); err != nil {
		t.Errorf("first inventory not stored: %v", err)
	}
	if st.RelayURL != "wss://relay.example" || len(st.ConsoleKeys) != 1 || !st.ConsoleKeys[0].Equal(e.signer.PublicKey()) {
		t.Errorf("state %+v: want the relay URL and the console key", st)
	}
	// Owner-only files, and the state loads back.
	for _, f := range []string{enroll.KeyFile, enroll.TokenFile, enroll.ConsoleFile, enroll.ConfigFile} {
		fi, err := os.Stat(filepath.Join(st.Dir, f))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v; want 0600", f, err, fi.Mode().Perm())
		}
	}
	if fi, _ := os.Stat(st.Dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("state dir mode %v, want 0700", fi.Mode().Perm())
	}
	loaded, err := enroll.Load(st.Dir)
	if err != nil || loaded.DeviceID != st.DeviceID || !loaded.Key.Equal(st.Key) {
		t.Fatalf("Load = %+v, %v", loaded, err)
	}
	tok, _ := loaded.Token()
	v := proto.NewVerifier(proto.AudienceRelay, e.clock.Now, e.signer.PublicKey())
	if c, err := v.Verify(tok, proto.KindDevice); err != nil || c.Subject != fmt.Sprint(st.DeviceID) {
		t.Errorf("device token: %+v, %v", c, err)
	}

	// Re-enrolling is explicit.
	_, err = enroll.Enroll(e.ctx, enroll.Options{Server: e.srv.URL, Token: e.token(nil), Dir: st.Dir, Now: e.clock.Now})
	if !errors.Is(err, enroll.ErrAlreadyEnrolled) {
		t.Errorf("second enroll without force: %v, want ErrAlreadyEnrolled", err)
	}
	again, err := enroll.Enroll(e.ctx, enroll.Options{Server: e.srv.URL, Token: e.token(nil), Dir: st.Dir, Force: true, Now: e.clock.Now})
	if err != nil || again.State.DeviceID == st.DeviceID || again.State.Key.Equal(st.Key) {
		t.Errorf("forced re-enroll: %+v, %v; want a new device and key", again, err)
	}
}

func TestEnrollRefused(t *testing.T) {
	e := newEnv(t, agentapi.Options{})
	expired := e.token(func(tok *console.EnrollmentToken) { tok.ExpiresAt = e.clock.Now().Add(time.Minute) })
	used := e.token(func(tok *console.EnrollmentToken) { tok.MaxUses = 1 })
	revoked := e.token(nil)
	toks, _ := e.store.FindEnrollmentTokens(e.ctx, e.group.ID)
	if err := e.store.RevokeEnrollmentToken(e.ctx, toks[0].ID); err != nil {
		t.Fatal(err)
	}
	enrollWith := func(tok string) error {
		_, err := enroll.Enroll(e.ctx, enroll.Options{Server: e.srv.URL, Token: tok, Dir: filepath.Join(t.TempDir(), "s"), Now: e.clock.Now})
		return err
	}
	if err := enrollWith(used); err != nil {
		t.Fatalf("first use: %v", err)
	}
	e.clock.Add(2 * time.Minute)
	for name, tok := range map[string]string{"wrong": "not-a-token", "expired": expired, "used up": used, "revoked": revoked} {
		if err := enrollWith(tok); !errors.Is(err, enroll.ErrRefused) {
			t.Errorf("%s token: %v, want ErrRefused", name, err)
		}
	}
	// A bad first report is refused before the token is used.
	good := e.token(func(tok *console.EnrollmentToken) { tok.MaxUses = 1 })
	_, err := enroll.Enroll(e.ctx, enroll.Options{Server: e.srv.URL, Token: good, Dir: filepath.Join(t.TempDir(), "s"),
		Inventory: []byte(`{"schema":1,"os":{"name":"<script>"}}`), Now: e.clock.Now})
	var ae *enroll.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest {
		t.Errorf("bad first report: %v, want 400", err)
	}
	if err := enrollWith(good); err != nil {
		t.Errorf("token after a refused report: %v, want it unused", err)
	}
}

// rawRequest sends a request signed by hand.
func (e *env) rawRequest(method, path string, body []byte, authz string) (int, wire.Error) {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(body))
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var we wire.Error
	json.NewDecoder(resp.Body).Decode(&we)
	return resp.StatusCode, we
}

func TestSignedRequests(t *testing.T) {
	e := newEnv(t, agentapi.Options{})
	res, client := e.enroll(nil)
	st := res.State
	if _, err := client.RefreshToken(e.ctx); err != nil {
		t.Fatalf("good signature: %v", err)
	}
	now := e.clock.Now()
	sign := func(key ed25519.PrivateKey, device int64, path string, body []byte, at time.Time) string {
		a, err := wire.Sign(key, device, http.MethodGet, path, body, at)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	replayed := sign(st.Key, st.DeviceID, wire.PathToken, nil, now)
	if code, _ := e.rawRequest(http.MethodGet, wire.PathToken, nil, replayed); code != http.StatusOK {
		t.Fatalf("first use of a signature: %d", code)
	}
	for _, tc := range []struct {
		name  string
		authz string
		code  string
	}{
		{"none", "", wire.CodeUnauthorized},
		{"garbage", "Reach-Ed25519 device=1,ts=x", wire.CodeUnauthorized},
		{"other scheme", "Bearer abc", wire.CodeUnauthorized},
		{"forged: another key", sign(otherKey, st.DeviceID, wire.PathToken, nil, now), wire.CodeUnauthorized},
		{"forged: another path", sign(st.Key, st.DeviceID, wire.PathCommands, nil, now), wire.CodeUnauthorized},
		{"replayed", replayed, wire.CodeUnauthorized},
		{"expired", sign(st.Key, st.DeviceID, wire.PathToken, nil, now.Add(-6*time.Minute)), wire.CodeClockSkew},
		{"from the future", sign(st.Key, st.DeviceID, wire.PathToken, nil, now.Add(6*time.Minute)), wire.CodeClockSkew},
		{"unknown device", sign(st.Key, 9999, wire.PathToken, nil, now), wire.CodeUnknownDevice},
	} {
		code, we := e.rawRequest(http.MethodGet, wire.PathToken, nil, tc.authz)
		if code != http.StatusUnauthorized || we.Error.Code != tc.code {
			t.Errorf("%s: %d %q, want 401 %q", tc.name, code, we.Error.Code, tc.code)
		}
	}
	// A body changed in transit breaks the signature.
	body := []byte(`{"events":[{"key":"k1","sid":"s","type":"chat","at":"2026-01-01T00:00:00Z"}]}`)
	a, _ := wire.Sign(st.Key, st.DeviceID, http.MethodPost, wire.PathEvents, body, now)
	tampered := bytes.Replace(body, []byte("chat"), []byte("file"), 1)
	if code, we := e.rawRequest(http.MethodPost, wire.PathEvents, tampered, a); code != http.StatusUnauthorized {
		t.Errorf("tampered body: %d %+v, want 401", code, we)
	}
	// The client corrects a skewed clock from the console's Date.
	skewed := enroll.NewClient(st, enroll.ClientOptions{Now: func() time.Time { return e.clock.Now().Add(-time.Hour) }})
	if _, err := skewed.RefreshToken(e.ctx); err != nil {
		t.Errorf("client with a clock an hour behind: %v", err)
	}
	// A deleted device is told so.
	if err := e.store.DeleteDevice(e.ctx, st.DeviceID); err != nil {
		t.Fatal(err)
	}
	_, err := client.RefreshToken(e.ctx)
	var ae *enroll.APIError
	if !errors.As(err, &ae) || ae.Code != wire.CodeUnknownDevice {
		t.Errorf("deleted device: %v, want %s", err, wire.CodeUnknownDevice)
	}
}

func TestReports(t *testing.T) {
	e := newEnv(t, agentapi.Options{})
	_, client := e.enroll(nil)
	rep := report(t)
	send := func(key string, full *inv.Report, delta *inv.Delta) (*wire.ReportResponse, error) {
		req := wire.ReportRequest{Key: key}
		if full != nil {
			req.Full, _ = json.Marshal(full)
		} else {
			req.Delta, _ = json.Marshal(delta)
		}
		body, _ := json.Marshal(req)
		var rr wire.ReportResponse
		err := client.Do(e.ctx, http.MethodPost, wire.PathReports, body, &rr)
		return &rr, err
	}
	// A delta before any full report asks for a full one.
	_, err := send("d0", nil, inv.Diff(rep.Hashes, rep))
	var ae *enroll.APIError
	if !errors.As(err, &ae) || ae.Code != wire.CodeBaseMismatch {
		t.Fatalf("delta without base: %v, want base_mismatch", err)
	}
	rr, err := send("full-1", rep, nil)
	if err != nil || rr.State != inv.StateHash(rep.Hashes) {
		t.Fatalf("full report: %+v, %v", rr, err)
	}
	// Unchanged delta: small, acknowledged with the same state.
	unchanged := inv.Diff(rep.Hashes, rep)
	b, _ := json.Marshal(unchanged)
	if len(b) > 1024 {
		t.Errorf("unchanged delta is %d bytes, want <= 1 KB", len(b))
	}
	rr, err = send("d1", nil, unchanged)
	if err != nil || rr.State != inv.StateHash(rep.Hashes) {
		t.Fatalf("unchanged delta: %+v, %v", rr, err)
	}
	// A changed section.
	next := report(t)
	next.OS.Version = "13 (trixie)"
	if err := next.Seal(); err != nil {
		t.Fatal(err)
	}
	delta := inv.Diff(rep.Hashes, next)
	rr, err = send("d2", nil, delta)
	if err != nil || rr.State != inv.StateHash(next.Hashes) || strings.Join(rr.Changed, ",") != "os" {
		t.Fatalf("changed delta: %+v, %v", rr, err)
	}
	stored, err := e.store.FindInventory(e.ctx, client.State().DeviceID)
	if err != nil || !bytes.Contains(stored.Raw, []byte("trixie")) {
		t.Errorf("stored inventory does not hold the delta: %v", err)
	}
	// The same item again (agent crashed before removing it): the first
	// answer, nothing changed twice.
	rr, err = send("d2", nil, delta)
	if err != nil || rr.State != inv.StateHash(next.Hashes) {
		t.Errorf("repeated item: %+v, %v", rr, err)
	}
	changes, _ := e.store.FindInventoryChanges(e.ctx, console.ChangeFilter{DeviceID: client.State().DeviceID})
	if n := len(changes); n != 2 { // the os section and the os version
		t.Errorf("%d inventory changes after a repeated delta, want 2: %+v", n, changes)
	}
	// The same delta under a new key (receipt lost): acknowledged, not applied.
	rr, err = send("d2-again", nil, delta)
	if err != nil || rr.State != inv.StateHash(next.Hashes) {
		t.Errorf("applied delta sent again: %+v, %v", rr, err)
	}
	// A report for another device, a hash that does not match, garbage.
	other := report(t)
	other.DeviceID = "999"
	if _, err := send("x1", other, nil); !errors.As(err, &ae) || ae.Status != http.StatusBadRequest {
		t.Errorf("report of another device: %v, want 400", err)
	}
	forged := report(t)
	forged.OS.Name = "<img src=x onerror=alert(1)>"
	if _, err := send("x2", forged, nil); !errors.As(err, &ae) || ae.Status != http.StatusBadRequest {
		t.Errorf("report whose hashes do not match: %v, want 400", err)
	}
	body := []byte(`{"key":"x3","full":{"schema":2}}`)
	if err := client.Do(e.ctx, http.MethodPost, wire.PathReports, body, nil); !errors.As(err, &ae) || ae.Code != wire.CodeUnsupported {
		t.Errorf("schema 2: %v, want %s", err, wire.CodeUnsupported)
	}
	huge := append([]byte(`{"key":"x4","full":"`), bytes.Repeat([]byte("a"), wire.MaxReportSize)...)
	if err := client.Do(e.ctx, http.MethodPost, wire.PathReports, append(huge, `"}`...), nil); !errors.As(err, &ae) || ae.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: %v, want 413", err)
	}
}

func TestCommandsAndDiagnostics(t *testing.T) {
	e := newEnv(t, agentapi.Options{})
	_, client := e.enroll(nil)
	dev := client.State().DeviceID
	poll := func(wait string) (wire.CommandsResponse, time.Duration) {
		var cr wire.CommandsResponse
		start := time.Now()
		if err := client.Do(e.ctx, http.MethodGet, wire.PathCommands+"?wait="+wait, nil, &cr); err != nil {
			t.Fatal(err)
		}
		return cr, time.Since(start)
	}
	if cr, took := poll("200ms"); len(cr.Commands) != 0 || took < 150*time.Millisecond {
		t.Errorf("idle poll: %+v after %v, want none after the wait", cr, took)
	}
	// A request wakes a waiting poll at once.
	go func() {
		time.Sleep(100 * time.Millisecond)
		if err := e.api.RequestInventory(e.ctx, dev); err != nil {
			t.Error(err)
		}
	}()
	cr, took := poll("10s")
	if len(cr.Commands) != 1 || cr.Commands[0].Kind != wire.CommandInventory || took > 5*time.Second {
		t.Fatalf("woken poll: %+v after %v", cr, took)
	}
	// Delivered once; redelivered only if not answered for a while.
	if cr, _ := poll("0s"); len(cr.Commands) != 0 {
		t.Errorf("command delivered twice at once: %+v", cr)
	}
	e.clock.Add(agentapi.DefaultRedeliverAfter + time.Second)
	if cr, _ := poll("0s"); len(cr.Commands) != 1 {
		t.Errorf("unanswered command not redelivered: %+v", cr)
	}

	if _, err := e.api.RequestDiagnostics(e.ctx, dev, []string{"rm -rf /"}); console.ErrorCode(err) != console.CodeInvalid {
		t.Errorf("unknown check: %v, want invalid", err)
	}
	id, err := e.api.RequestDiagnostics(e.ctx, dev, []string{"dns", "disk_space"})
	if err != nil {
		t.Fatal(err)
	}
	cr, _ = poll("0s")
	var got *wire.Command
	for i, c := range cr.Commands {
		if c.ID == id {
			got = &cr.Commands[i]
		}
	}
	if got == nil || got.Kind != wire.CommandDiagnostics || strings.Join(got.Checks, ",") != "disk_space,dns" {
		t.Fatalf("diagnostics command: %+v", cr)
	}
	diagJSON, err := os.ReadFile("../../proto/inventory/testdata/diag.json")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(wire.DiagnosticsRequest{Key: "cmd-1", CommandID: id, Report: diagJSON})
	for range 2 { // the second is a retry
		if err := client.Do(e.ctx, http.MethodPost, wire.PathDiagnostics, body, nil); err != nil {
			t.Fatal(err)
		}
	}
	results, err := e.store.FindCommandDiagnostics(e.ctx, id)
	diag, _ := inv.DecodeDiag(diagJSON)
	if err != nil || len(results) != len(diag.Results) {
		t.Fatalf("stored %d results, %v; want %d once", len(results), err, len(diag.Results))
	}
	c, _ := e.store.FindDeviceCommandByID(e.ctx, id)
	if c.CompletedAt.IsZero() {
		t.Error("diagnostics command not completed")
	}
	// Answering another device's command is refused.
	_, other := e.enroll(nil)
	body, _ = json.Marshal(wire.DiagnosticsRequest{Key: "cmd-x", CommandID: id, Report: diagJSON})
	var ae *enroll.APIError
	if err := other.Do(e.ctx, http.MethodPost, wire.PathDiagnostics, body, nil); !errors.As(err, &ae) || ae.Status != http.StatusBadRequest {
		t.Errorf("another device's command: %v, want 400", err)
	}
}

func TestEvents(t *testing.T) {
	e := newEnv(t, agentapi.Options{})
	_, client := e.enroll(nil)
	body := []byte(`{"events":[{"key":"e1","sid":"s-1","type":"chat","at":"2026-01-01T00:00:00Z","detail":{"text":"<b>hi</b>"}},
		{"key":"e2","sid":"s-1","type":"csat","at":"2026-01-01T00:00:01Z","detail":{"score":5}}]}`)
	var er wire.EventsResponse
	for range 2 {
		if err := client.Do(e.ctx, http.MethodPost, wire.PathEvents, body, &er); err != nil {
			t.Fatal(err)
		}
	}
	if len(er.Events) != 2 || !er.Events[0].Duplicate || er.Events[0].ID == 0 {
		t.Errorf("repeated batch answer %+v, want duplicates with the first IDs", er)
	}
	stored, _ := e.store.FindAgentEvents(e.ctx, console.AgentEventFilter{SID: "s-1"})
	if len(stored) != 2 || string(stored[0].Detail) != `{"text":"<b>hi</b>"}` {
		t.Errorf("stored events %+v, want 2 kept as sent", stored)
	}
	var ae *enroll.APIError
	for name, b := range map[string]string{
		"no events":     `{"events":[]}`,
		"unknown field": `{"events":[{"key":"e3","sid":"s","type":"chat","at":"2026-01-01T00:00:00Z","shell":"ls"}]}`,
		"bad type":      `{"events":[{"key":"e3","sid":"s","type":"Chat!","at":"2026-01-01T00:00:00Z"}]}`,
	} {
		if err := client.Do(e.ctx, http.MethodPost, wire.PathEvents, []byte(b), nil); !errors.As(err, &ae) || ae.Status != http.StatusBadRequest {
			t.Errorf("%s: %v, want 400", name, err)
		}
	}
	// Events of a known session: the end ends it, the CSAT is recorded.
	tech := &console.User{Email: "t@example.com", Name: "T", Role: console.RoleTechnician, Level: console.L1}
	if err := e.store.CreateUser(e.ctx, tech); err != nil {
		t.Fatal(err)
	}
	sess := &console.Session{Kind: console.SessionUnattended, DeviceID: client.State().DeviceID, TechnicianID: tech.ID,
		Consent: console.ConsentNotRequired, StartedAt: e.clock.Now()}
	if err := e.store.CreateSession(e.ctx, sess); err != nil {
		t.Fatal(err)
	}
	sid := "relay-sid-1"
	if _, err := e.store.UpdateSession(e.ctx, sess.ID, console.SessionUpdate{RelaySID: &sid}); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(time.Minute)
	ended := `{"events":[{"key":"x1","sid":"relay-sid-1","type":"end","at":"2026-01-01T00:00:00Z","detail":{"reason":"user\u0007 stopped"}},
		{"key":"x2","sid":"relay-sid-1","type":"csat","at":"2026-01-01T00:00:00Z","detail":{"score":4}}]}`
	if err := client.Do(e.ctx, http.MethodPost, wire.PathEvents, []byte(ended), nil); err != nil {
		t.Fatal(err)
	}
	got, _ := e.store.FindSessionByID(e.ctx, sess.ID)
	if got.EndedAt.IsZero() || got.EndReason != "user stopped" {
		t.Errorf("session after the agent's end: ended %v, reason %q", got.EndedAt, got.EndReason)
	}
	if a, err := e.store.FindCSAT(e.ctx, sess.ID); err != nil || a.Score != 4 {
		t.Errorf("CSAT after the agent's csat: %+v, %v", a, err)
	}
	// One event twice in a batch is stored once.
	twice := `{"events":[{"key":"e4","sid":"s","type":"chat","at":"2026-01-01T00:00:00Z"},{"key":"e4","sid":"s","type":"chat","at":"2026-01-01T00:00:00Z"}]}`
	if err := client.Do(e.ctx, http.MethodPost, wire.PathEvents, []byte(twice), &er); err != nil || !er.Events[1].Duplicate ||
		er.Events[1].ID != er.Events[0].ID {
		t.Errorf("a key twice in a batch: %+v, %v; want the second a duplicate of the first", er, err)
	}
}

func TestQuick(t *testing.T) {
	e := newEnv(t, agentapi.Options{QuickLimit: 5})
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	post := func(code string, key ed25519.PublicKey) (int, []byte) {
		b, _ := json.Marshal(wire.QuickRequest{Code: code, PublicKey: wire.EncodeKey(key)})
		resp, err := http.Post(e.srv.URL+wire.PathQuick, "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var buf bytes.Buffer
		buf.ReadFrom(resp.Body)
		return resp.StatusCode, buf.Bytes()
	}
	code, body := post("123456789", pub)
	var qr wire.QuickResponse
	if code != http.StatusCreated || json.Unmarshal(body, &qr) != nil || qr.Token == "" {
		t.Fatalf("register: %d %s", code, body)
	}
	h := auth.HashSecret("123456789")
	k, err := e.store.FindQuickKey(e.ctx, h)
	if err != nil || !k.PublicKey.Equal(pub) {
		t.Errorf("FindQuickKey: %+v, %v", k, err)
	}
	other, _, _ := ed25519.GenerateKey(rand.Reader)
	if code, _ := post("123456789", other); code != http.StatusConflict {
		t.Errorf("another key for a taken code: %d, want 409", code)
	}
	if code, _ := post("12345", pub); code != http.StatusBadRequest {
		t.Errorf("short code: %d, want 400", code)
	}
	var limited bool
	for range 5 {
		if code, _ := post("987654321", pub); code == http.StatusTooManyRequests {
			limited = true
		}
	}
	if !limited {
		t.Error("no rate limit after 8 requests with a limit of 5 a minute")
	}
	e.clock.Add(proto.DefaultCodeTTL)
	if _, err := e.store.FindQuickKey(e.ctx, h); console.ErrorCode(err) != console.CodeNotFound {
		t.Errorf("key after the code expired: %v, want not found", err)
	}
}

package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/reachdesk/reach/console"
)

func testLoginSessions(t *testing.T, h Harness) {
	e := newEnv(t, h)
	s, ctx := e.s, e.ctx
	u := e.tech()
	other := e.tech()

	ls := &console.LoginSession{UserID: u.ID, Hash: hash("cookie 1"), MFAPending: true, UserAgent: "Firefox",
		Address: "192.0.2.1", ExpiresAt: epoch.Add(12 * time.Hour)}
	e.must(s.CreateLoginSession(ctx, ls))
	if ls.ID == 0 || !ls.CreatedAt.Equal(epoch) || !ls.LastSeenAt.Equal(epoch) {
		t.Fatalf("CreateLoginSession set ID %d, CreatedAt %v, LastSeenAt %v", ls.ID, ls.CreatedAt, ls.LastSeenAt)
	}
	got, err := s.FindLoginSessionByHash(ctx, hash("cookie 1"))
	e.must(err)
	equal(t, "FindLoginSessionByHash", *got, *ls)
	_, err = s.FindLoginSessionByHash(ctx, hash("cookie 2"))
	wantCode(t, "find unknown hash", err, console.CodeNotFound)

	for _, tc := range []struct {
		name string
		ls   console.LoginSession
		code console.Code
	}{
		{"duplicate hash", console.LoginSession{UserID: u.ID, Hash: hash("cookie 1"), ExpiresAt: epoch.Add(time.Hour)}, console.CodeConflict},
		{"no user", console.LoginSession{Hash: hash("x"), ExpiresAt: epoch.Add(time.Hour)}, console.CodeInvalid},
		{"unknown user", console.LoginSession{UserID: 99999, Hash: hash("x"), ExpiresAt: epoch.Add(time.Hour)}, console.CodeNotFound},
		{"short hash", console.LoginSession{UserID: u.ID, Hash: []byte("short"), ExpiresAt: epoch.Add(time.Hour)}, console.CodeInvalid},
		{"no expiry", console.LoginSession{UserID: u.ID, Hash: hash("y")}, console.CodeInvalid},
		{"long user agent", console.LoginSession{UserID: u.ID, Hash: hash("z"), ExpiresAt: epoch.Add(time.Hour),
			UserAgent: string(make([]byte, console.MaxUserAgentLen+1))}, console.CodeInvalid},
	} {
		wantCode(t, "CreateLoginSession "+tc.name, s.CreateLoginSession(ctx, &tc.ls), tc.code)
	}

	// Touch moves LastSeenAt forward only.
	e.must(s.TouchLoginSession(ctx, ls.ID, epoch.Add(time.Hour)))
	e.must(s.TouchLoginSession(ctx, ls.ID, epoch.Add(time.Minute)))
	got, err = s.FindLoginSessionByHash(ctx, ls.Hash)
	e.must(err)
	equal(t, "LastSeenAt after touches", got.LastSeenAt, epoch.Add(time.Hour))

	// Expiry: absolute and idle.
	idle := &console.LoginSession{UserID: u.ID, Hash: hash("idle"), ExpiresAt: epoch.Add(24 * time.Hour), LastSeenAt: epoch}
	abs := &console.LoginSession{UserID: u.ID, Hash: hash("absolute"), ExpiresAt: epoch.Add(90 * time.Minute),
		LastSeenAt: epoch.Add(80 * time.Minute)}
	fresh := &console.LoginSession{UserID: other.ID, Hash: hash("fresh"), ExpiresAt: epoch.Add(24 * time.Hour),
		LastSeenAt: epoch.Add(100 * time.Minute)}
	for _, x := range []*console.LoginSession{idle, abs, fresh} {
		e.must(s.CreateLoginSession(ctx, x))
	}
	n, err := s.DeleteExpiredLoginSessions(ctx, epoch.Add(2*time.Hour), 90*time.Minute)
	e.must(err)
	equal(t, "expired sessions removed", n, 2) // idle (seen 2h ago) and abs (expired)
	for _, x := range []*console.LoginSession{idle, abs} {
		_, err := s.FindLoginSessionByHash(ctx, x.Hash)
		wantCode(t, "expired session", err, console.CodeNotFound)
	}
	for _, x := range []*console.LoginSession{ls, fresh} {
		_, err := s.FindLoginSessionByHash(ctx, x.Hash)
		e.must(err)
	}

	// Sign-out everywhere keeps the current session and other users'.
	second := &console.LoginSession{UserID: u.ID, Hash: hash("second"), ExpiresAt: epoch.Add(24 * time.Hour)}
	e.must(s.CreateLoginSession(ctx, second))
	n, err = s.DeleteUserLoginSessions(ctx, u.ID, ls.ID)
	e.must(err)
	equal(t, "DeleteUserLoginSessions keeping one", n, 1)
	_, err = s.FindLoginSessionByHash(ctx, ls.Hash)
	e.must(err)
	_, err = s.FindLoginSessionByHash(ctx, fresh.Hash)
	e.must(err)

	e.must(s.DeleteLoginSession(ctx, ls.ID))
	wantCode(t, "delete twice", s.DeleteLoginSession(ctx, ls.ID), console.CodeNotFound)

	// Deleting the user removes its sessions.
	e.must(s.DeleteUser(ctx, other.ID))
	_, err = s.FindLoginSessionByHash(ctx, fresh.Hash)
	wantCode(t, "session of a deleted user", err, console.CodeNotFound)
}

func testTOTPSteps(t *testing.T, h Harness) {
	e := newEnv(t, h)
	s, ctx := e.s, e.ctx
	u := e.tech()
	e.must(s.UseTOTPStep(ctx, u.ID, 1000))
	wantCode(t, "same step again", s.UseTOTPStep(ctx, u.ID, 1000), console.CodeConflict)
	wantCode(t, "earlier step", s.UseTOTPStep(ctx, u.ID, 999), console.CodeConflict)
	e.must(s.UseTOTPStep(ctx, u.ID, 1001))
	wantCode(t, "unknown user", s.UseTOTPStep(ctx, 99999, 5), console.CodeNotFound)

	// Of concurrent uses of one step exactly one wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.UseTOTPStep(ctx, u.ID, 2000)
			mu.Lock()
			defer mu.Unlock()
			switch console.ErrorCode(err) {
			case "":
				wins++
			case console.CodeConflict:
			default:
				t.Errorf("concurrent UseTOTPStep: %v", err)
			}
		}()
	}
	wg.Wait()
	equal(t, "concurrent winners", wins, 1)
}

func testRecoveryCodes(t *testing.T, h Harness) {
	e := newEnv(t, h)
	s, ctx := e.s, e.ctx
	u := e.tech()
	other := e.tech()
	e.must(s.SetRecoveryCodes(ctx, u.ID, [][]byte{hash("a"), hash("b"), hash("c")}))
	e.must(s.SetRecoveryCodes(ctx, other.ID, [][]byte{hash("a")}))
	n, err := s.CountRecoveryCodes(ctx, u.ID)
	e.must(err)
	equal(t, "codes", n, 3)
	e.must(s.UseRecoveryCode(ctx, u.ID, hash("b")))
	wantCode(t, "code used twice", s.UseRecoveryCode(ctx, u.ID, hash("b")), console.CodeNotFound)
	wantCode(t, "unknown code", s.UseRecoveryCode(ctx, u.ID, hash("z")), console.CodeNotFound)
	n, err = s.CountRecoveryCodes(ctx, u.ID)
	e.must(err)
	equal(t, "codes after use", n, 2)
	// Replacing drops the old set; other users keep theirs.
	e.must(s.SetRecoveryCodes(ctx, u.ID, [][]byte{hash("d")}))
	wantCode(t, "old code after replace", s.UseRecoveryCode(ctx, u.ID, hash("a")), console.CodeNotFound)
	e.must(s.UseRecoveryCode(ctx, other.ID, hash("a")))
	e.must(s.SetRecoveryCodes(ctx, u.ID, nil))
	n, err = s.CountRecoveryCodes(ctx, u.ID)
	e.must(err)
	equal(t, "codes after removal", n, 0)

	wantCode(t, "unknown user", s.SetRecoveryCodes(ctx, 99999, [][]byte{hash("x")}), console.CodeNotFound)
	wantCode(t, "short hash", s.SetRecoveryCodes(ctx, u.ID, [][]byte{[]byte("x")}), console.CodeInvalid)
	many := make([][]byte, console.MaxRecoveryCodes+1)
	for i := range many {
		many[i] = hash(string(rune('a' + i)))
	}
	wantCode(t, "too many", s.SetRecoveryCodes(ctx, u.ID, many), console.CodeInvalid)
}

func testRelaySessions(t *testing.T, h Harness) {
	e := newEnv(t, h)
	s, ctx := e.s, e.ctx
	tech := e.tech()
	a := &console.Session{Kind: console.SessionAttended, TechnicianID: tech.ID, Consent: console.ConsentPending}
	b := &console.Session{Kind: console.SessionAttended, TechnicianID: tech.ID, Consent: console.ConsentPending, RelaySID: "sid-b"}
	e.must(s.CreateSession(ctx, a))
	e.must(s.CreateSession(ctx, b))
	got, err := s.FindSessionByID(ctx, b.ID)
	e.must(err)
	equal(t, "created with RelaySID", got.RelaySID, "sid-b")

	code := hash("123456789")
	upd, err := s.UpdateSession(ctx, a.ID, console.SessionUpdate{RelaySID: ptr("sid-a"), CodeHash: &code})
	e.must(err)
	equal(t, "updated RelaySID", upd.RelaySID, "sid-a")
	got, err = s.FindSessionByID(ctx, a.ID)
	e.must(err)
	equal(t, "stored update", *got, *upd)
	equal(t, "stored code hash", got.CodeHash, code)

	_, err = s.UpdateSession(ctx, b.ID, console.SessionUpdate{RelaySID: ptr("sid-a")})
	wantCode(t, "RelaySID taken", err, console.CodeConflict)
	_, err = s.UpdateSession(ctx, b.ID, console.SessionUpdate{RelaySID: ptr(string(make([]byte, console.MaxRelaySIDLen+1)))})
	wantCode(t, "RelaySID too long", err, console.CodeInvalid)

	ss, err := s.FindSessions(ctx, console.SessionFilter{RelaySID: "sid-a"})
	e.must(err)
	equal(t, "FindSessions by RelaySID", len(ss), 1)
	if len(ss) == 1 {
		equal(t, "FindSessions by RelaySID", ss[0].ID, a.ID)
	}
	// Clearing the sid frees it.
	_, err = s.UpdateSession(ctx, a.ID, console.SessionUpdate{RelaySID: ptr("")})
	e.must(err)
	_, err = s.UpdateSession(ctx, b.ID, console.SessionUpdate{RelaySID: ptr("sid-a")})
	e.must(err)
}

func testFinishSession(t *testing.T, h Harness) {
	e := newEnv(t, h)
	s, ctx := e.s, e.ctx
	tech := e.tech()
	never := &console.Session{Kind: console.SessionAttended, TechnicianID: tech.ID, Consent: console.ConsentPending}
	ran := &console.Session{Kind: console.SessionAttended, TechnicianID: tech.ID, Consent: console.ConsentControl,
		StartedAt: epoch.Add(time.Minute)}
	e.must(s.CreateSession(ctx, never))
	e.must(s.CreateSession(ctx, ran))

	end := epoch.Add(10 * time.Minute)
	got, err := s.FinishSession(ctx, ran.ID, end, "technician_ended")
	e.must(err)
	equal(t, "ended", got.EndedAt, end)
	equal(t, "reason", got.EndReason, "technician_ended")
	equal(t, "duration", got.Duration(), 9*time.Minute)
	stored, err := s.FindSessionByID(ctx, ran.ID)
	e.must(err)
	equal(t, "stored", *stored, *got)
	_, err = s.FinishSession(ctx, ran.ID, end.Add(time.Minute), "again")
	wantCode(t, "finish twice", err, console.CodeConflict)

	got, err = s.FinishSession(ctx, never.ID, end, "denied")
	e.must(err)
	equal(t, "never started: zero duration", got.Duration(), time.Duration(0))
	_, err = s.FinishSession(ctx, 99999, end, "x")
	wantCode(t, "unknown session", err, console.CodeNotFound)

	// Of concurrent finishes exactly one wins.
	race := &console.Session{Kind: console.SessionAttended, TechnicianID: tech.ID, Consent: console.ConsentPending}
	e.must(s.CreateSession(ctx, race))
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.FinishSession(ctx, race.ID, end, "ended")
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				wins++
			} else if console.ErrorCode(err) != console.CodeConflict {
				t.Errorf("concurrent FinishSession: %v", err)
			}
		}()
	}
	wg.Wait()
	equal(t, "concurrent winners", wins, 1)
}

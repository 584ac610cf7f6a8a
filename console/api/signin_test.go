package api

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/reachdesk/reach/console"
	"github.com/reachdesk/reach/console/auth"
)

func TestLoginCookieAndLogout(t *testing.T) {
	for _, secure := range []bool{false, true} {
		t.Run(map[bool]string{false: "http", true: "secure"}[secure], func(t *testing.T) {
			e := newEnv(t, func(o *Options) { o.SecureCookies = secure })
			u := e.user(console.RoleTechnician, console.L1)
			c := e.anon()
			r := c.do("POST", "/api/v1/auth/login", map[string]string{"email": u.Email, "password": "wrong password"})
			r.want(t, "wrong password", 401)
			if msg := r.json()["error"].(map[string]any)["message"]; msg != "invalid email or password" {
				t.Errorf("wrong password message %q", msg)
			}
			r = c.do("POST", "/api/v1/auth/login", map[string]string{"email": "nobody@example.com", "password": password})
			r.want(t, "unknown email", 401)

			r = c.do("POST", "/api/v1/auth/login", map[string]string{"email": strings.ToUpper(u.Email), "password": password})
			r.want(t, "login", 200)
			var ck *http.Cookie
			for _, x := range r.cookie {
				ck = x
			}
			wantName := map[bool]string{false: "reach_session", true: "__Host-reach_session"}[secure]
			if ck == nil || ck.Name != wantName || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode ||
				ck.Secure != secure || ck.Path != "/" || ck.MaxAge != int((12*time.Hour)/time.Second) {
				t.Fatalf("session cookie %+v", ck)
			}
			if len(ck.Value) != 43 {
				t.Errorf("cookie value has %d characters, want 43 (256 bits)", len(ck.Value))
			}
			// Only the hash of the cookie is stored.
			if _, err := e.store.FindLoginSessionByHash(e.ctx, auth.HashSecret(ck.Value)); err != nil {
				t.Errorf("session not stored by hash: %v", err)
			}
			body := r.json()
			c.csrf = body["csrf_token"].(string)
			if body["mfa_required"] != false || body["user"].(map[string]any)["email"] != u.Email {
				t.Errorf("login body %s", r.body)
			}
			me := c.do("GET", "/api/v1/auth/me", nil).want(t, "me", 200).json()
			if me["auth"] != "session" || me["csrf_token"] != c.csrf {
				t.Errorf("me %v", me)
			}
			stolen := c.cookies
			c.do("POST", "/api/v1/auth/logout", nil).want(t, "logout", 204)
			c.do("GET", "/api/v1/auth/me", nil).want(t, "me after logout", 401)
			replay := &client{e: e, cookies: stolen, csrf: c.csrf}
			replay.do("GET", "/api/v1/auth/me", nil).want(t, "replayed cookie after logout", 401)
		})
	}
}

func TestLoginRefusesDisabledUsers(t *testing.T) {
	e := newEnv(t, nil)
	u := e.user(console.RoleAdmin, 0)
	c := e.login(u)
	disabled := true
	_, err := e.store.UpdateUser(e.ctx, u.ID, console.UserUpdate{Disabled: &disabled})
	e.must(err)
	c.do("GET", "/api/v1/auth/me", nil).want(t, "me of a disabled user", 401)
	r := e.anon().do("POST", "/api/v1/auth/login", map[string]string{"email": u.Email, "password": password})
	r.want(t, "login of a disabled user", 401)
	if !strings.Contains(string(r.body), "invalid email or password") {
		t.Errorf("disabled user told apart: %s", r.body)
	}
}

func TestSessionTimeouts(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.SessionIdle, o.SessionMax = 30*time.Minute, 2*time.Hour })
	u := e.user(console.RoleViewer, 0)
	c := e.login(u)
	// Activity every 20 minutes keeps the session until its absolute end.
	for range 5 {
		e.clock.Advance(20 * time.Minute)
		c.do("GET", "/api/v1/auth/me", nil).want(t, "active session", 200)
	}
	e.clock.Advance(20 * time.Minute) // 2h after sign-in
	c.do("GET", "/api/v1/auth/me", nil).want(t, "after absolute timeout", 401)

	c = e.login(u)
	e.clock.Advance(31 * time.Minute)
	c.do("GET", "/api/v1/auth/me", nil).want(t, "after idle timeout", 401)
}

func TestLoginThrottle(t *testing.T) {
	e := newEnv(t, nil)
	u := e.user(console.RoleTechnician, console.L2)
	c := e.anon()
	for i := range 5 {
		c.do("POST", "/api/v1/auth/login", map[string]string{"email": u.Email, "password": "wrong " + string(rune('a'+i))}).
			want(t, "wrong password", 401)
	}
	r := c.do("POST", "/api/v1/auth/login", map[string]string{"email": u.Email, "password": password})
	r.want(t, "right password while locked", 429)
	if r.header.Get("Retry-After") != "900" || r.errCode() != "too_many_requests" {
		t.Errorf("Retry-After %q, code %q", r.header.Get("Retry-After"), r.errCode())
	}
	// Unknown accounts lock the same way: no enumeration through the lock.
	for range 5 {
		c.do("POST", "/api/v1/auth/login", map[string]string{"email": "ghost@example.com", "password": "x"}).want(t, "ghost", 401)
	}
	c.do("POST", "/api/v1/auth/login", map[string]string{"email": "ghost@example.com", "password": "x"}).want(t, "ghost locked", 429)
	e.clock.Advance(15 * time.Minute)
	c.do("POST", "/api/v1/auth/login", map[string]string{"email": u.Email, "password": password}).want(t, "after the lockout", 200)
}

func TestTOTP(t *testing.T) {
	e := newEnv(t, nil)
	u := e.user(console.RoleTechnician, console.L1)
	c := e.login(u)
	en := c.do("POST", "/api/v1/auth/totp/enroll", nil).want(t, "enroll", 200).json()
	secret := en["secret"].(string)
	if !strings.HasPrefix(en["qr_png"].(string), "data:image/png;base64,") || !strings.HasPrefix(en["otpauth_url"].(string), "otpauth://totp/") {
		t.Errorf("enrollment %v", en)
	}
	code := func() string {
		s, err := auth.Code(secret, e.clock.Now())
		e.must(err)
		return s
	}
	c.do("POST", "/api/v1/auth/totp/confirm", map[string]string{"state": en["state"].(string), "code": "abcdef"}).want(t, "confirm wrong code", 400)
	conf := c.do("POST", "/api/v1/auth/totp/confirm", map[string]string{"state": en["state"].(string), "code": code()}).
		want(t, "confirm", 200).json()
	recovery := conf["recovery_codes"].([]any)
	if len(recovery) != auth.RecoveryCodeCount {
		t.Fatalf("%d recovery codes", len(recovery))
	}
	stored, err := e.store.FindUserByID(e.ctx, u.ID)
	e.must(err)
	if stored.TOTPSecret == nil || strings.Contains(string(stored.TOTPSecret), secret) {
		t.Fatal("TOTP secret not stored sealed")
	}

	// Sign-in now takes a second step; the pending session allows nothing else.
	c2 := e.anon()
	r := c2.do("POST", "/api/v1/auth/login", map[string]string{"email": u.Email, "password": password}).want(t, "password step", 200)
	if r.json()["mfa_required"] != true || r.json()["user"] != nil {
		t.Fatalf("password step body %s", r.body)
	}
	c2.csrf = r.json()["csrf_token"].(string)
	c2.do("GET", "/api/v1/auth/me", nil).want(t, "me while MFA pending", 401)
	c2.do("GET", "/api/v1/tickets", nil).want(t, "tickets while MFA pending", 401)
	c2.do("POST", "/api/v1/auth/login/totp", map[string]string{"code": "000000"}).want(t, "wrong code", 401)
	// The code used at confirmation cannot be used again.
	c2.do("POST", "/api/v1/auth/login/totp", map[string]string{"code": code()}).want(t, "code of the confirmed step", 401)
	e.clock.Advance(30 * time.Second)
	pending := c2.cookies
	r = c2.do("POST", "/api/v1/auth/login/totp", map[string]string{"code": code()}).want(t, "right code", 200)
	c2.csrf = r.json()["csrf_token"].(string)
	if c2.cookies[0].Value == pending[0].Value {
		t.Error("session id not rotated after the second factor")
	}
	c2.do("GET", "/api/v1/auth/me", nil).want(t, "me after TOTP", 200)
	(&client{e: e, cookies: pending}).do("GET", "/api/v1/auth/me", nil).want(t, "pending cookie after TOTP", 401)

	// The same code again, in another sign-in within its step: refused.
	c3 := e.anon()
	r = c3.do("POST", "/api/v1/auth/login", map[string]string{"email": u.Email, "password": password}).want(t, "password step", 200)
	c3.csrf = r.json()["csrf_token"].(string)
	c3.do("POST", "/api/v1/auth/login/totp", map[string]string{"code": code()}).want(t, "replayed code", 401)
	// A recovery code works once.
	rc := recovery[0].(string)
	c3.do("POST", "/api/v1/auth/login/totp", map[string]string{"recovery_code": strings.ToUpper(rc)}).want(t, "recovery code", 200)
	c4 := e.anon()
	r = c4.do("POST", "/api/v1/auth/login", map[string]string{"email": u.Email, "password": password}).want(t, "password step", 200)
	c4.csrf = r.json()["csrf_token"].(string)
	c4.do("POST", "/api/v1/auth/login/totp", map[string]string{"recovery_code": rc}).want(t, "recovery code reused", 401)

	// Disabling needs the password and a code.
	e.clock.Advance(30 * time.Second)
	c2.do("POST", "/api/v1/auth/totp/disable", map[string]string{"password": "wrong password!", "code": code()}).want(t, "disable, wrong password", 403)
	c2.do("POST", "/api/v1/auth/totp/disable", map[string]string{"password": password, "code": code()}).want(t, "disable", 204)
	me := c2.do("GET", "/api/v1/auth/me", nil).want(t, "me", 200).json()
	if me["user"].(map[string]any)["totp_enabled"] != false || me["recovery_codes_left"].(float64) != 0 {
		t.Errorf("after disable: %v", me)
	}
}

func TestCSRFAndOrigin(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.AllowedOrigins = []string{"https://ui.example.com"} })
	u := e.user(console.RoleTechnician, console.L1)
	c := e.login(u)
	body := map[string]any{"title": "Printer on fire", "priority": "P2"}
	csrf := c.csrf
	c.csrf = ""
	r := c.do("POST", "/api/v1/tickets", body).want(t, "no CSRF header", 403)
	if !strings.Contains(string(r.body), "X-CSRF-Token") {
		t.Errorf("no CSRF message: %s", r.body)
	}
	c.csrf = "wrong"
	c.do("POST", "/api/v1/tickets", body).want(t, "wrong CSRF header", 403)
	other := e.login(e.user(console.RoleTechnician, console.L1))
	c.csrf = other.csrf
	c.do("POST", "/api/v1/tickets", body).want(t, "another session's CSRF token", 403)
	c.csrf = csrf
	c.origin = "https://evil.example"
	c.do("POST", "/api/v1/tickets", body).want(t, "cross-origin", 403)
	c.origin = "https://ui.example.com"
	c.do("POST", "/api/v1/tickets", body).want(t, "allowed origin", 201)
	c.origin = ""
	c.do("POST", "/api/v1/tickets", body, "Origin", "", "Sec-Fetch-Site", "cross-site").want(t, "Sec-Fetch-Site cross-site", 403)
	c.do("POST", "/api/v1/tickets", body).want(t, "same origin with token", 201)
	// Reads need no token.
	c.csrf = ""
	c.do("GET", "/api/v1/tickets", nil).want(t, "GET without token", 200)
	// Sign-in from another site is refused too (login CSRF).
	a := e.anon()
	a.origin = "https://evil.example"
	a.do("POST", "/api/v1/auth/login", map[string]string{"email": u.Email, "password": password}).want(t, "cross-site login", 403)
	// API tokens need neither.
	tok := e.token(u)
	tok.origin = "https://evil.example"
	tok.do("POST", "/api/v1/tickets", body).want(t, "bearer token", 201)
}

func TestAPITokens(t *testing.T) {
	e := newEnv(t, nil)
	u := e.user(console.RoleTechnician, console.L2)
	c := e.login(u)
	r := c.do("POST", "/api/v1/auth/tokens", map[string]any{"name": "CI", "expires_in_seconds": 3600}).want(t, "create token", 201).json()
	tok := r["token"].(string)
	if !strings.HasPrefix(tok, "reach_") || r["expires_at"] != "2026-03-02T10:00:00Z" {
		t.Fatalf("token %v", r)
	}
	stored, err := e.store.FindAPITokens(e.ctx, u.ID)
	e.must(err)
	if len(stored) != 1 || string(stored[0].Hash) != string(auth.HashSecret(tok)) {
		t.Fatal("token not stored as its SHA-256")
	}
	b := &client{e: e, bearer: tok}
	me := b.do("GET", "/api/v1/auth/me", nil).want(t, "me by token", 200).json()
	if me["auth"] != "token" || me["csrf_token"] != nil {
		t.Errorf("me by token %v", me)
	}
	list := c.do("GET", "/api/v1/auth/tokens", nil).want(t, "list", 200).json()["items"].([]any)
	if lu := list[0].(map[string]any)["last_used_at"]; lu != "2026-03-02T09:00:00Z" {
		t.Errorf("last_used_at %v", lu)
	}
	b.do("POST", "/api/v1/auth/tokens", map[string]any{"name": "x"}).want(t, "token creating tokens", 403)
	b.do("POST", "/api/v1/auth/password", map[string]any{"current_password": password, "new_password": "another long password"}).
		want(t, "token changing the password", 403)
	for _, bad := range []string{"Bearer reach_nope", "Bearer " + tok + "x", "Basic abc", "Bearer " + strings.TrimPrefix(tok, "reach_")} {
		r := (&client{e: e}).do("GET", "/api/v1/auth/me", nil, "Authorization", bad)
		r.want(t, "bad token "+bad[:8], 401)
	}
	e.clock.Advance(time.Hour)
	b.do("GET", "/api/v1/auth/me", nil).want(t, "expired token", 401)

	r2 := c.do("POST", "/api/v1/auth/tokens", map[string]any{"name": "CI 2"}).want(t, "create token", 201).json()
	b2 := &client{e: e, bearer: r2["token"].(string)}
	b2.do("GET", "/api/v1/auth/me", nil).want(t, "second token", 200)
	// Another user cannot delete it; its owner can, which ends it.
	e.session(e.user(console.RoleAdmin, 0)).do("DELETE", "/api/v1/auth/tokens/"+itoa(int64(r2["id"].(float64))), nil).
		want(t, "delete someone else's token", 404)
	b2.do("DELETE", "/api/v1/auth/tokens/"+itoa(int64(r2["id"].(float64))), nil).want(t, "delete own token", 204)
	b2.do("GET", "/api/v1/auth/me", nil).want(t, "deleted token", 401)
	// A disabled user's tokens stop working.
	r3 := c.do("POST", "/api/v1/auth/tokens", map[string]any{"name": "CI 3"}).want(t, "create token", 201).json()
	yes := true
	_, err = e.store.UpdateUser(e.ctx, u.ID, console.UserUpdate{Disabled: &yes})
	e.must(err)
	(&client{e: e, bearer: r3["token"].(string)}).do("GET", "/api/v1/auth/me", nil).want(t, "disabled user's token", 401)
}

func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	e := newEnv(t, nil)
	u := e.user(console.RoleViewer, 0)
	a, b := e.login(u), e.login(u)
	a.do("POST", "/api/v1/auth/password", map[string]any{"current_password": password, "new_password": "short"}).want(t, "short", 400)
	a.do("POST", "/api/v1/auth/password", map[string]any{"current_password": "not it at all", "new_password": "a much longer password"}).
		want(t, "wrong current", 403)
	a.do("POST", "/api/v1/auth/password", map[string]any{"current_password": password, "new_password": "a much longer password"}).
		want(t, "change", 204)
	a.do("GET", "/api/v1/auth/me", nil).want(t, "this session", 200)
	b.do("GET", "/api/v1/auth/me", nil).want(t, "other session", 401)
	e.anon().do("POST", "/api/v1/auth/login", map[string]string{"email": u.Email, "password": "a much longer password"}).want(t, "new password", 200)
}

func TestBcryptHashIsUpgraded(t *testing.T) {
	e := newEnv(t, nil)
	u := e.user(console.RoleViewer, 0)
	bc := "$2a$04$" // a bcrypt hash of the fixture password, cost 4
	h, err := bcryptHash(password)
	e.must(err)
	if !strings.HasPrefix(h, bc) {
		t.Fatalf("bcrypt hash %q", h)
	}
	_, err = e.store.UpdateUser(e.ctx, u.ID, console.UserUpdate{PasswordHash: &h})
	e.must(err)
	e.login(u)
	got, err := e.store.FindUserByID(e.ctx, u.ID)
	e.must(err)
	if !strings.HasPrefix(got.PasswordHash, "$argon2id$") {
		t.Errorf("hash after sign-in %q, want argon2id", got.PasswordHash)
	}
}

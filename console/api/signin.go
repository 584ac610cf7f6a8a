package api

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/reachdesk/reach/console"
	"github.com/reachdesk/reach/console/auth"
)

// errSignIn is the one answer to a wrong email, a wrong password and a
// disabled account.
var errSignIn = errUnauthorized("invalid email or password")

func errThrottled(wait time.Duration) error {
	return &apiError{status: http.StatusTooManyRequests, code: "too_many_requests",
		msg: "too many failed sign-in attempts; try again later", retryAfter: wait}
}

type signedInJSON struct {
	MFARequired bool      `json:"mfa_required"`
	User        *userJSON `json:"user,omitempty"`
	CSRFToken   string    `json:"csrf_token"`
}

func (s *Server) login(w http.ResponseWriter, r *http.Request, _ *principal) error {
	var req struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if err := decode(w, r, s.opts.MaxBodyBytes, &req); err != nil {
		return err
	}
	if req.Email == "" || req.Password == "" {
		return errBadRequest("email and password are required")
	}
	if len(req.Email) > console.MaxEmailLen {
		return errSignIn
	}
	ctx, addr := r.Context(), s.clientAddr(r)
	if wait := s.opts.Throttle.Check(req.Email, addr); wait > 0 {
		s.metrics.logins.WithLabelValues("throttled").Inc()
		return errThrottled(wait)
	}
	u, err := s.store.FindUserByEmail(ctx, req.Email)
	switch {
	case console.ErrorCode(err) == console.CodeNotFound:
		err = s.opts.Hasher.VerifyNone(ctx, req.Password)
	case err != nil:
		return err
	default:
		err = s.opts.Hasher.Verify(ctx, u.PasswordHash, req.Password)
	}
	if err == nil && u.Disabled {
		err = auth.ErrMismatch
	}
	if err != nil {
		if !errors.Is(err, auth.ErrMismatch) && ctx.Err() == nil {
			s.log.WarnContext(ctx, "api: password check failed", "err", err)
		}
		s.opts.Throttle.Fail(req.Email, addr)
		s.metrics.logins.WithLabelValues("failed").Inc()
		return errSignIn
	}
	if s.opts.Hasher.NeedsRehash(u.PasswordHash) {
		s.rehash(ctx, u, req.Password)
	}
	mfa := u.TOTPSecret != nil
	secret, err := s.startSession(ctx, w, r, u, mfa)
	if err != nil {
		return err
	}
	resp := signedInJSON{MFARequired: mfa, CSRFToken: auth.CSRFToken(secret)}
	if mfa {
		s.metrics.logins.WithLabelValues("mfa").Inc()
	} else {
		s.opts.Throttle.Succeed(req.Email)
		s.metrics.logins.WithLabelValues("ok").Inc()
		uj := toUser(u)
		resp.User = &uj
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// rehash upgrades a bcrypt or outdated argon2id hash after a successful
// sign-in; failing to is not the sign-in's failure.
func (s *Server) rehash(ctx context.Context, u *console.User, password string) {
	h, err := s.opts.Hasher.Hash(ctx, password)
	if err == nil {
		_, err = s.store.UpdateUser(ctx, u.ID, console.UserUpdate{PasswordHash: &h})
	}
	if err != nil {
		s.log.WarnContext(ctx, "api: rehash password", "user", u.ID, "err", err)
	}
}

// loginTOTP completes a sign-in with a TOTP code or a recovery code and
// replaces the pending session by a fresh one.
func (s *Server) loginTOTP(w http.ResponseWriter, r *http.Request, p *principal) error {
	var req struct {
		Code         string `json:"code"`
		RecoveryCode string `json:"recovery_code"`
	}
	if err := decode(w, r, s.opts.MaxBodyBytes, &req); err != nil {
		return err
	}
	ctx, addr := r.Context(), s.clientAddr(r)
	u, err := s.store.FindUserByID(ctx, p.session.UserID)
	if err != nil {
		return err
	}
	if wait := s.opts.Throttle.Check(u.Email, addr); wait > 0 {
		s.metrics.logins.WithLabelValues("throttled").Inc()
		return errThrottled(wait)
	}
	if err := s.secondFactor(ctx, u, req.Code, req.RecoveryCode); err != nil {
		s.opts.Throttle.Fail(u.Email, addr)
		s.metrics.logins.WithLabelValues("failed").Inc()
		return err
	}
	if err := s.store.DeleteLoginSession(ctx, p.session.ID); err != nil {
		return err
	}
	secret, err := s.startSession(ctx, w, r, u, false)
	if err != nil {
		return err
	}
	s.opts.Throttle.Succeed(u.Email)
	s.metrics.logins.WithLabelValues("ok").Inc()
	uj := toUser(u)
	writeJSON(w, http.StatusOK, signedInJSON{User: &uj, CSRFToken: auth.CSRFToken(secret)})
	return nil
}

// secondFactor checks a TOTP code (once per time step) or uses up a
// recovery code.
func (s *Server) secondFactor(ctx context.Context, u *console.User, code, recovery string) error {
	bad := errUnauthorized("invalid two-factor code")
	if u.TOTPSecret == nil {
		return errConflict("two-factor authentication is not enabled")
	}
	switch {
	case code != "" && recovery != "":
		return errBadRequest("send either code or recovery_code")
	case recovery != "":
		if len(recovery) > 64 {
			return bad
		}
		err := s.store.UseRecoveryCode(ctx, u.ID, auth.HashRecoveryCode(recovery))
		if console.ErrorCode(err) == console.CodeNotFound {
			return bad
		}
		return err
	case code == "":
		return errBadRequest("code is required")
	}
	step, err := s.totp.Check(u.ID, u.TOTPSecret, code)
	if errors.Is(err, auth.ErrBadCode) {
		return bad
	} else if err != nil {
		return err
	}
	err = s.store.UseTOTPStep(ctx, u.ID, step)
	if console.ErrorCode(err) == console.CodeConflict {
		return errUnauthorized("this two-factor code was already used; wait for the next one")
	}
	return err
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, p *principal) error {
	err := s.store.DeleteLoginSession(r.Context(), p.session.ID)
	if err != nil && console.ErrorCode(err) != console.CodeNotFound {
		return err
	}
	s.clearCookie(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type grantedJSON struct {
	GroupID     int64 `json:"group_id"`
	Permissions perms `json:"permissions"`
}

func (s *Server) me(w http.ResponseWriter, r *http.Request, p *principal) error {
	ctx := r.Context()
	groups, err := s.store.FindDeviceGroups(ctx)
	if err != nil {
		return err
	}
	acl, err := s.permissions(ctx, p.user)
	if err != nil {
		return err
	}
	granted := []grantedJSON{}
	for _, g := range groups {
		if pm := acl.on(g.ID); pm != 0 {
			granted = append(granted, grantedJSON{GroupID: g.ID, Permissions: perms(pm)})
		}
	}
	codes, err := s.store.CountRecoveryCodes(ctx, p.user.ID)
	if err != nil {
		return err
	}
	resp := struct {
		User          userJSON      `json:"user"`
		Auth          string        `json:"auth"`
		CSRFToken     string        `json:"csrf_token,omitempty"`
		RecoveryCodes int           `json:"recovery_codes_left"`
		Groups        []grantedJSON `json:"groups"`
	}{User: toUser(p.user), Auth: "session", RecoveryCodes: codes, Groups: granted}
	if p.token != nil {
		resp.Auth = "token"
	} else {
		resp.CSRFToken = auth.CSRFToken(p.secret)
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// reauth checks the caller's password before a credential change; failures
// count towards the sign-in throttle.
func (s *Server) reauth(r *http.Request, u *console.User, password string) error {
	ctx, addr := r.Context(), s.clientAddr(r)
	if wait := s.opts.Throttle.Check(u.Email, addr); wait > 0 {
		return errThrottled(wait)
	}
	if err := s.opts.Hasher.Verify(ctx, u.PasswordHash, password); err != nil {
		if !errors.Is(err, auth.ErrMismatch) {
			return err
		}
		s.opts.Throttle.Fail(u.Email, addr)
		return errForbidden("current password is wrong")
	}
	return nil
}

func (s *Server) changePassword(w http.ResponseWriter, r *http.Request, p *principal) error {
	var req struct {
		Current string `json:"current_password"`
		New     string `json:"new_password"`
	}
	if err := decode(w, r, s.opts.MaxBodyBytes, &req); err != nil {
		return err
	}
	if reason := auth.CheckNewPassword(req.New, p.user.Email); reason != "" {
		return errBadRequest("%s", reason)
	}
	if err := s.reauth(r, p.user, req.Current); err != nil {
		return err
	}
	ctx := r.Context()
	h, err := s.opts.Hasher.Hash(ctx, req.New)
	if err != nil {
		return err
	}
	if _, err := s.store.UpdateUser(ctx, p.user.ID, console.UserUpdate{PasswordHash: &h}); err != nil {
		return err
	}
	// Other browsers signed in with the old password are signed out.
	if _, err := s.store.DeleteUserLoginSessions(ctx, p.user.ID, p.session.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) totpEnroll(w http.ResponseWriter, r *http.Request, p *principal) error {
	if p.user.TOTPSecret != nil {
		return errConflict("two-factor authentication is already enabled; disable it first")
	}
	en, err := s.totp.Enroll(p.user.ID, p.user.Email)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{
		"secret":      en.Secret,
		"otpauth_url": en.URL,
		"qr_png":      "data:image/png;base64," + base64.StdEncoding.EncodeToString(en.QRPNG),
		"state":       en.State,
	})
	return nil
}

func (s *Server) totpConfirm(w http.ResponseWriter, r *http.Request, p *principal) error {
	var req struct {
		State string `json:"state"`
		Code  string `json:"code"`
	}
	if err := decode(w, r, s.opts.MaxBodyBytes, &req); err != nil {
		return err
	}
	if p.user.TOTPSecret != nil {
		return errConflict("two-factor authentication is already enabled")
	}
	sealed, step, err := s.totp.Confirm(p.user.ID, req.State, req.Code)
	switch {
	case errors.Is(err, auth.ErrBadCode):
		return errBadRequest("wrong code; check the time on your device and try the next code")
	case errors.Is(err, auth.ErrEnrollment):
		return errBadRequest("%s", strings.TrimPrefix(err.Error(), "auth: "))
	case err != nil:
		return err
	}
	ctx := r.Context()
	codes, hashes, err := auth.NewRecoveryCodes(auth.RecoveryCodeCount)
	if err != nil {
		return err
	}
	if _, err := s.store.UpdateUser(ctx, p.user.ID, console.UserUpdate{TOTPSecret: &sealed}); err != nil {
		return err
	}
	if err := s.store.UseTOTPStep(ctx, p.user.ID, step); err != nil && console.ErrorCode(err) != console.CodeConflict {
		return err
	}
	if err := s.store.SetRecoveryCodes(ctx, p.user.ID, hashes); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"recovery_codes": codes})
	return nil
}

func (s *Server) totpDisable(w http.ResponseWriter, r *http.Request, p *principal) error {
	var req struct {
		Password     string `json:"password"`
		Code         string `json:"code"`
		RecoveryCode string `json:"recovery_code"`
	}
	if err := decode(w, r, s.opts.MaxBodyBytes, &req); err != nil {
		return err
	}
	if p.user.TOTPSecret == nil {
		return errConflict("two-factor authentication is not enabled")
	}
	if err := s.reauth(r, p.user, req.Password); err != nil {
		return err
	}
	ctx := r.Context()
	if err := s.secondFactor(ctx, p.user, req.Code, req.RecoveryCode); err != nil {
		s.opts.Throttle.Fail(p.user.Email, s.clientAddr(r))
		return err
	}
	if err := s.clearTOTP(ctx, p.user.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) clearTOTP(ctx context.Context, userID int64) error {
	var none []byte
	if _, err := s.store.UpdateUser(ctx, userID, console.UserUpdate{TOTPSecret: &none}); err != nil {
		return err
	}
	return s.store.SetRecoveryCodes(ctx, userID, nil)
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request, p *principal) error {
	ts, err := s.store.FindAPITokens(r.Context(), p.user.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(mapSlice(ts, toToken), ""))
	return nil
}

// maxTokenLifetime bounds API token expiry; zero expiry is refused.
const maxTokenLifetime = 366 * 24 * time.Hour

func (s *Server) createToken(w http.ResponseWriter, r *http.Request, p *principal) error {
	var req struct {
		Name      string  `json:"name"`
		ExpiresIn seconds `json:"expires_in_seconds"`
	}
	if err := decode(w, r, s.opts.MaxBodyBytes, &req); err != nil {
		return err
	}
	ttl := time.Duration(req.ExpiresIn)
	if ttl == 0 {
		ttl = 90 * 24 * time.Hour
	}
	if ttl < time.Minute || ttl > maxTokenLifetime {
		return errBadRequest("expires_in_seconds must be from 60 to %d", int64(maxTokenLifetime/time.Second))
	}
	tok, hash, err := auth.NewAPIToken()
	if err != nil {
		return err
	}
	t := &console.APIToken{UserID: p.user.ID, Name: req.Name, Hash: hash, ExpiresAt: s.now().Add(ttl)}
	if err := s.store.CreateAPIToken(r.Context(), t); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, struct {
		tokenJSON
		Token string `json:"token"`
	}{toToken(t), tok})
	return nil
}

func (s *Server) deleteToken(w http.ResponseWriter, r *http.Request, p *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	ts, err := s.store.FindAPITokens(ctx, p.user.ID)
	if err != nil {
		return err
	}
	for _, t := range ts {
		if t.ID == id {
			if err := s.store.DeleteAPIToken(ctx, id); err != nil {
				return err
			}
			w.WriteHeader(http.StatusNoContent)
			return nil
		}
	}
	return errNotFound("API token")
}

package api

import (
	"net/http"
	"time"

	"github.com/reachdesk/reach/console"
	"github.com/reachdesk/reach/console/auth"
)

func (s *Server) listGroups(w http.ResponseWriter, r *http.Request, _ *principal) error {
	gs, err := s.store.FindDeviceGroups(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(mapSlice(gs, toGroup), ""))
	return nil
}

type groupRequest struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
}

func (s *Server) createGroup(w http.ResponseWriter, r *http.Request, _ *principal) error {
	var req groupRequest
	if err := decode(w, r, s.opts.MaxBodyBytes, &req); err != nil {
		return err
	}
	g := &console.DeviceGroup{Name: deref(req.Name), Description: deref(req.Description)}
	if err := s.store.CreateDeviceGroup(r.Context(), g); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toGroup(g))
	return nil
}

func (s *Server) updateGroup(w http.ResponseWriter, r *http.Request, _ *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req groupRequest
	if err := decode(w, r, s.opts.MaxBodyBytes, &req); err != nil {
		return err
	}
	g, err := s.store.UpdateDeviceGroup(r.Context(), id, console.DeviceGroupUpdate{Name: req.Name, Description: req.Description})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toGroup(g))
	return nil
}

func (s *Server) listGrants(w http.ResponseWriter, r *http.Request, _ *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	if _, err := s.store.FindDeviceGroupByID(ctx, id); err != nil {
		return err
	}
	gs, err := s.store.FindGrants(ctx, console.GrantFilter{GroupID: id})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(mapSlice(gs, toGrant), ""))
	return nil
}

func (s *Server) setGrant(w http.ResponseWriter, r *http.Request, _ *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req struct {
		UserID      int64  `json:"user_id"`
		Role        string `json:"role"`
		Permissions *perms `json:"permissions"`
	}
	if err := decode(w, r, s.opts.MaxBodyBytes, &req); err != nil {
		return err
	}
	if req.Permissions == nil {
		return errBadRequest("permissions are required")
	}
	g := &console.Grant{GroupID: id, UserID: req.UserID, Role: console.Role(req.Role), Permissions: console.Permissions(*req.Permissions)}
	if err := g.Validate(); err != nil {
		return err
	}
	ctx := r.Context()
	if _, err := s.store.FindDeviceGroupByID(ctx, id); err != nil {
		return err
	}
	if err := s.store.SetGrant(ctx, g); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toGrant(g))
	return nil
}

func (s *Server) deleteUserGrant(w http.ResponseWriter, r *http.Request, _ *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	uid, err := pathID(r, "user_id")
	if err != nil {
		return err
	}
	return s.deleteGrant(w, r, &console.Grant{GroupID: id, UserID: uid})
}

func (s *Server) deleteRoleGrant(w http.ResponseWriter, r *http.Request, _ *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	role := console.Role(r.PathValue("role"))
	if !role.Valid() {
		return errBadRequest("role must be admin, technician or viewer")
	}
	return s.deleteGrant(w, r, &console.Grant{GroupID: id, Role: role})
}

func (s *Server) deleteGrant(w http.ResponseWriter, r *http.Request, g *console.Grant) error {
	if err := s.store.DeleteGrant(r.Context(), g); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// EnrollmentTokenPrefix starts every enrollment token's secret. The store
// keeps the SHA-256 of the whole string (auth.HashSecret).
const EnrollmentTokenPrefix = "reachenroll_"

func (s *Server) listEnrollmentTokens(w http.ResponseWriter, r *http.Request, _ *principal) error {
	q := query{r: r}
	group := q.int("group_id")
	if q.err != nil {
		return q.err
	}
	ts, err := s.store.FindEnrollmentTokens(r.Context(), group)
	if err != nil {
		return err
	}
	now := s.now()
	writeJSON(w, http.StatusOK, newList(mapSlice(ts, func(t *console.EnrollmentToken) enrollmentTokenJSON {
		return toEnrollmentToken(t, now)
	}), ""))
	return nil
}

// maxEnrollmentTTL bounds how long an enrollment token lives.
const maxEnrollmentTTL = 366 * 24 * time.Hour

func (s *Server) createEnrollmentToken(w http.ResponseWriter, r *http.Request, p *principal) error {
	var req struct {
		GroupID   int64   `json:"group_id"`
		Name      string  `json:"name"`
		ExpiresIn seconds `json:"expires_in_seconds"`
		MaxUses   int     `json:"max_uses"`
	}
	if err := decode(w, r, s.opts.MaxBodyBytes, &req); err != nil {
		return err
	}
	ttl := time.Duration(req.ExpiresIn)
	if ttl == 0 {
		ttl = 7 * 24 * time.Hour
	}
	if ttl < time.Minute || ttl > maxEnrollmentTTL {
		return errBadRequest("expires_in_seconds must be from 60 to %d", int64(maxEnrollmentTTL/time.Second))
	}
	if req.MaxUses == 0 {
		req.MaxUses = 1
	}
	secret, err := auth.NewSecret()
	if err != nil {
		return err
	}
	secret = EnrollmentTokenPrefix + secret
	t := &console.EnrollmentToken{GroupID: req.GroupID, Name: req.Name, SecretHash: auth.HashSecret(secret),
		ExpiresAt: s.now().Add(ttl), MaxUses: req.MaxUses, CreatedBy: p.user.ID}
	if err := s.store.CreateEnrollmentToken(r.Context(), t); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, struct {
		enrollmentTokenJSON
		Secret string `json:"secret"`
	}{toEnrollmentToken(t, s.now()), secret})
	return nil
}

func (s *Server) revokeEnrollmentToken(w http.ResponseWriter, r *http.Request, _ *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	if err := s.store.RevokeEnrollmentToken(ctx, id); err != nil {
		return err
	}
	t, err := s.store.FindEnrollmentTokenByID(ctx, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toEnrollmentToken(t, s.now()))
	return nil
}

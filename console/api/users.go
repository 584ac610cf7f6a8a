package api

import (
	"net/http"
	"strings"

	"github.com/reachdesk/reach/console"
	"github.com/reachdesk/reach/console/auth"
)

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, _ *principal) error {
	q := query{r: r}
	f := console.UserFilter{Role: console.Role(q.str("role", 20)), AfterID: q.int("after"), Limit: int(q.int("limit"))}
	if v := r.URL.Query().Get("disabled"); v != "" {
		d := q.bool("disabled")
		f.Disabled = &d
	}
	if q.err != nil {
		return q.err
	}
	if f.Role != "" && !f.Role.Valid() {
		return errBadRequest("role must be admin, technician or viewer")
	}
	us, err := s.store.FindUsers(r.Context(), f)
	if err != nil {
		return err
	}
	next := ""
	if len(us) == console.PageLimit(f.Limit) {
		next = itoa(us[len(us)-1].ID)
	}
	writeJSON(w, http.StatusOK, newList(mapSlice(us, toUser), next))
	return nil
}

type userRequest struct {
	Email    *string `json:"email"`
	Name     *string `json:"name"`
	Role     *string `json:"role"`
	Level    *level  `json:"level"`
	Password *string `json:"password"`
	Disabled *bool   `json:"disabled"`
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request, _ *principal) error {
	var req userRequest
	if err := decode(w, r, s.opts.MaxBodyBytes, &req); err != nil {
		return err
	}
	u := &console.User{Email: deref(req.Email), Name: deref(req.Name), Role: console.Role(deref(req.Role))}
	if req.Level != nil {
		u.Level = console.Level(*req.Level)
	}
	if req.Disabled != nil {
		u.Disabled = *req.Disabled
	}
	password, generated := deref(req.Password), false
	if password == "" {
		var err error
		if password, err = auth.NewSecret(); err != nil {
			return err
		}
		password, generated = password[:20], true
	}
	if reason := auth.CheckNewPassword(password, u.Email); reason != "" {
		return errBadRequest("%s", reason)
	}
	if err := u.Validate(); err != nil {
		return err
	}
	ctx := r.Context()
	h, err := s.opts.Hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	u.PasswordHash = h
	if err := s.store.CreateUser(ctx, u); err != nil {
		return err
	}
	resp := struct {
		User     userJSON `json:"user"`
		Password string   `json:"password,omitempty"`
	}{User: toUser(u)}
	if generated {
		resp.Password = password // shown once; the admin hands it over
	}
	writeJSON(w, http.StatusCreated, resp)
	return nil
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request, _ *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	u, err := s.store.FindUserByID(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toUser(u))
	return nil
}

func (s *Server) updateUser(w http.ResponseWriter, r *http.Request, p *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req userRequest
	if err := decode(w, r, s.opts.MaxBodyBytes, &req); err != nil {
		return err
	}
	ctx := r.Context()
	old, err := s.store.FindUserByID(ctx, id)
	if err != nil {
		return err
	}
	upd := console.UserUpdate{Email: req.Email, Name: req.Name, Disabled: req.Disabled}
	if req.Role != nil {
		role := console.Role(*req.Role)
		upd.Role = &role
		if role != console.RoleTechnician && req.Level == nil {
			var none console.Level
			upd.Level = &none
		}
	}
	if req.Level != nil {
		l := console.Level(*req.Level)
		upd.Level = &l
	}
	if id == p.user.ID && ((upd.Role != nil && *upd.Role != console.RoleAdmin) || (upd.Disabled != nil && *upd.Disabled)) {
		return errConflict("you cannot remove your own admin role or disable yourself")
	}
	if req.Password != nil {
		if reason := auth.CheckNewPassword(*req.Password, old.Email); reason != "" {
			return errBadRequest("%s", reason)
		}
		h, err := s.opts.Hasher.Hash(ctx, *req.Password)
		if err != nil {
			return err
		}
		upd.PasswordHash = &h
	}
	u, err := s.store.UpdateUser(ctx, id, upd)
	if err != nil {
		return err
	}
	// A disabled user, a new password or a demotion ends the user's sessions.
	if u.Disabled || req.Password != nil || u.Role != old.Role {
		keep := int64(0)
		if id == p.user.ID && p.session != nil {
			keep = p.session.ID
		}
		if _, err := s.store.DeleteUserLoginSessions(ctx, id, keep); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, toUser(u))
	return nil
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request, p *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if id == p.user.ID {
		return errConflict("you cannot delete yourself")
	}
	if err := s.store.DeleteUser(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// resetTOTP removes a user's two-factor enrollment, for a user who lost
// both the device and the recovery codes.
func (s *Server) resetTOTP(w http.ResponseWriter, r *http.Request, _ *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	if _, err := s.store.FindUserByID(ctx, id); err != nil {
		return err
	}
	if err := s.clearTOTP(ctx, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listTeams(w http.ResponseWriter, r *http.Request, _ *principal) error {
	q := query{r: r}
	user := q.int("user_id")
	if q.err != nil {
		return q.err
	}
	ts, err := s.store.FindTeams(r.Context(), user)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(mapSlice(ts, toTeam), ""))
	return nil
}

type nameRequest struct {
	Name string `json:"name"`
}

func (s *Server) createTeam(w http.ResponseWriter, r *http.Request, _ *principal) error {
	var req nameRequest
	if err := decode(w, r, s.opts.MaxBodyBytes, &req); err != nil {
		return err
	}
	t := &console.Team{Name: strings.TrimSpace(req.Name)}
	if err := s.store.CreateTeam(r.Context(), t); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toTeam(t))
	return nil
}

func (s *Server) renameTeam(w http.ResponseWriter, r *http.Request, _ *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req nameRequest
	if err := decode(w, r, s.opts.MaxBodyBytes, &req); err != nil {
		return err
	}
	t, err := s.store.RenameTeam(r.Context(), id, strings.TrimSpace(req.Name))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toTeam(t))
	return nil
}

func (s *Server) listTeamMembers(w http.ResponseWriter, r *http.Request, _ *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	if _, err := s.store.FindTeamByID(ctx, id); err != nil {
		return err
	}
	ids, err := s.store.FindTeamMembers(ctx, id)
	if err != nil {
		return err
	}
	if ids == nil {
		ids = []int64{}
	}
	writeJSON(w, http.StatusOK, map[string][]int64{"user_ids": ids})
	return nil
}

func (s *Server) addTeamMember(w http.ResponseWriter, r *http.Request, _ *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	uid, err := pathID(r, "user_id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	if _, err := s.store.FindTeamByID(ctx, id); err != nil {
		return err
	}
	if _, err := s.store.FindUserByID(ctx, uid); err != nil {
		return err
	}
	if err := s.store.AddTeamMember(ctx, id, uid); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) removeTeamMember(w http.ResponseWriter, r *http.Request, _ *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	uid, err := pathID(r, "user_id")
	if err != nil {
		return err
	}
	if err := s.store.RemoveTeamMember(r.Context(), id, uid); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

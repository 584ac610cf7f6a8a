package api

import (
	"net/http"
	"time"

	"github.com/reachdesk/reach/console"
)

func (s *Server) listSLAPolicies(w http.ResponseWriter, r *http.Request, _ *principal) error {
	ps, err := s.store.FindSLAPolicies(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(mapSlice(ps, toSLAPolicy), ""))
	return nil
}

type slaPolicyRequest struct {
	Name     string                   `json:"name"`
	Default  bool                     `json:"default"`
	Targets  map[string]targetJSON    `json:"targets"`
	Calendar console.BusinessCalendar `json:"calendar"`
}

func (req *slaPolicyRequest) policy() (*console.SLAPolicy, error) {
	p := &console.SLAPolicy{Name: req.Name, Default: req.Default, Calendar: req.Calendar,
		Targets: make(map[console.Priority]console.SLATarget, len(req.Targets))}
	for k, t := range req.Targets {
		prio, ok := parsePriority(k)
		if !ok {
			return nil, errBadRequest("targets are keyed by priority, P1 to P4")
		}
		p.Targets[prio] = console.SLATarget{FirstResponse: time.Duration(t.FirstResponse), Resolution: time.Duration(t.Resolution)}
	}
	return p, p.Validate()
}

func (s *Server) createSLAPolicy(w http.ResponseWriter, r *http.Request, _ *principal) error {
	var req slaPolicyRequest
	if err := decode(w, r, s.opts.MaxBodyBytes, &req); err != nil {
		return err
	}
	p, err := req.policy()
	if err != nil {
		return err
	}
	if err := s.store.CreateSLAPolicy(r.Context(), p); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toSLAPolicy(p))
	return nil
}

func (s *Server) getSLAPolicy(w http.ResponseWriter, r *http.Request, _ *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p, err := s.store.FindSLAPolicyByID(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toSLAPolicy(p))
	return nil
}

func (s *Server) replaceSLAPolicy(w http.ResponseWriter, r *http.Request, _ *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req slaPolicyRequest
	if err := decode(w, r, s.opts.MaxBodyBytes, &req); err != nil {
		return err
	}
	p, err := req.policy()
	if err != nil {
		return err
	}
	p.ID = id
	ctx := r.Context()
	if err := s.store.UpdateSLAPolicy(ctx, p); err != nil {
		return err
	}
	if p, err = s.store.FindSLAPolicyByID(ctx, id); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toSLAPolicy(p))
	return nil
}

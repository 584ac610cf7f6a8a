package api

import (
	"net/http"
	"time"

	"github.com/reachdesk/reach/console"
)

type escalationRuleJSON struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Enabled    bool       `json:"enabled"`
	Priorities []priority `json:"priorities"`
	Category   string     `json:"category,omitempty"`
	TeamID     int64      `json:"team_id,omitempty"`
	Level      level      `json:"level"`
	Deadline   string     `json:"deadline"`
	Trigger    string     `json:"trigger"`
	Minutes    int        `json:"minutes,omitempty"`
	Percent    int        `json:"percent,omitempty"`
	SetLevel   level      `json:"set_level"`
	SetTeamID  int64      `json:"set_team_id,omitempty"`
	Unassign   bool       `json:"unassign"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
}

func toEscalationRule(r *console.EscalationRule) escalationRuleJSON {
	return escalationRuleJSON{ID: r.ID, Name: r.Name, Enabled: r.Enabled,
		Priorities: mapSlice(r.Priorities, func(p console.Priority) priority { return priority(p) }),
		Category:   r.Category, TeamID: r.TeamID, Level: level(r.Level), Deadline: string(r.Deadline), Trigger: string(r.Trigger),
		Minutes: r.Minutes, Percent: r.Percent, SetLevel: level(r.SetLevel), SetTeamID: r.SetTeamID, Unassign: r.Unassign,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

type escalationRuleRequest struct {
	Name       string     `json:"name"`
	Enabled    bool       `json:"enabled"`
	Priorities []priority `json:"priorities"`
	Category   string     `json:"category"`
	TeamID     int64      `json:"team_id"`
	Level      level      `json:"level"`
	Deadline   string     `json:"deadline"`
	Trigger    string     `json:"trigger"`
	Minutes    int        `json:"minutes"`
	Percent    int        `json:"percent"`
	SetLevel   level      `json:"set_level"`
	SetTeamID  int64      `json:"set_team_id"`
	Unassign   bool       `json:"unassign"`
}

func (req *escalationRuleRequest) rule() *console.EscalationRule {
	return &console.EscalationRule{Name: req.Name, Enabled: req.Enabled,
		Priorities: mapSlice(req.Priorities, func(p priority) console.Priority { return console.Priority(p) }),
		Category:   req.Category, TeamID: req.TeamID, Level: console.Level(req.Level), Deadline: console.Deadline(req.Deadline),
		Trigger: console.EscalationTrigger(req.Trigger), Minutes: req.Minutes, Percent: req.Percent,
		SetLevel: console.Level(req.SetLevel), SetTeamID: req.SetTeamID, Unassign: req.Unassign}
}

func (s *Server) listEscalationRules(w http.ResponseWriter, r *http.Request, _ *principal) error {
	rs, err := s.store.FindEscalationRules(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(mapSlice(rs, toEscalationRule), ""))
	return nil
}

func (s *Server) createEscalationRule(w http.ResponseWriter, r *http.Request, _ *principal) error {
	var req escalationRuleRequest
	if err := decode(w, r, s.opts.MaxBodyBytes, &req); err != nil {
		return err
	}
	rule := req.rule()
	if err := s.store.CreateEscalationRule(r.Context(), rule); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toEscalationRule(rule))
	return nil
}

func (s *Server) getEscalationRule(w http.ResponseWriter, r *http.Request, _ *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	rule, err := s.store.FindEscalationRuleByID(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toEscalationRule(rule))
	return nil
}

func (s *Server) replaceEscalationRule(w http.ResponseWriter, r *http.Request, _ *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req escalationRuleRequest
	if err := decode(w, r, s.opts.MaxBodyBytes, &req); err != nil {
		return err
	}
	rule := req.rule()
	rule.ID = id
	ctx := r.Context()
	if err := s.store.UpdateEscalationRule(ctx, rule); err != nil {
		return err
	}
	if rule, err = s.store.FindEscalationRuleByID(ctx, id); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toEscalationRule(rule))
	return nil
}

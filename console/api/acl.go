package api

import (
	"context"

	"github.com/reachdesk/reach/console"
)

// acl is what one user may do on each device group.
type acl struct {
	all     bool // admins
	byGroup map[int64]console.Permissions
}

// permissions computes u's permissions on every group with a grant to u or
// u's role.
func (s *Server) permissions(ctx context.Context, u *console.User) (*acl, error) {
	if u.Role == console.RoleAdmin && !u.Disabled {
		return &acl{all: true}, nil
	}
	grants, err := s.store.FindGrants(ctx, console.GrantFilter{UserID: u.ID, Role: u.Role})
	if err != nil {
		return nil, err
	}
	byGroup := map[int64][]*console.Grant{}
	for _, g := range grants {
		byGroup[g.GroupID] = append(byGroup[g.GroupID], g)
	}
	a := &acl{byGroup: map[int64]console.Permissions{}}
	for gid, gs := range byGroup {
		if p := console.EffectivePermissions(u, gs); p != 0 {
			a.byGroup[gid] = p
		}
	}
	return a, nil
}

// on returns the permissions on group id.
func (a *acl) on(id int64) console.Permissions {
	if a.all {
		return console.PermAll
	}
	return a.byGroup[id]
}

// viewable returns the groups whose devices the user may see: nil for
// every group, an empty slice for none.
func (a *acl) viewable() []int64 {
	if a.all {
		return nil
	}
	ids := []int64{}
	for id, p := range a.byGroup {
		if p.Has(console.PermView) {
			ids = append(ids, id)
		}
	}
	return ids
}

// device loads a device the caller may view and checks need on its group.
// A device the caller may not view does not exist for them.
func (s *Server) device(ctx context.Context, p *principal, id int64, need console.Permissions) (*console.Device, console.Permissions, error) {
	d, err := s.store.FindDeviceByID(ctx, id)
	if console.ErrorCode(err) == console.CodeNotFound {
		return nil, 0, errNotFound("device")
	} else if err != nil {
		return nil, 0, err
	}
	a, err := s.permissions(ctx, p.user)
	if err != nil {
		return nil, 0, err
	}
	have := a.on(d.GroupID)
	if !have.Has(console.PermView) {
		return nil, 0, errNotFound("device")
	}
	if !have.Has(need) {
		return nil, 0, errForbidden("your grants on this device's group do not allow this")
	}
	return d, have, nil
}

// ticket loads a ticket.
func (s *Server) ticket(ctx context.Context, id int64) (*console.Ticket, error) {
	t, err := s.store.FindTicketByID(ctx, id)
	if console.ErrorCode(err) == console.CodeNotFound {
		return nil, errNotFound("ticket")
	}
	return t, err
}

// work loads a ticket the caller may change: admins any, technicians those
// escalated no higher than their own level.
func (s *Server) work(ctx context.Context, p *principal, id int64) (*console.Ticket, error) {
	t, err := s.ticket(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := canWork(p, t); err != nil {
		return nil, err
	}
	return t, nil
}

func canWork(p *principal, t *console.Ticket) error {
	switch {
	case p.admin():
		return nil
	case p.user.Role != console.RoleTechnician:
		return errForbidden("viewers cannot change anything")
	case p.user.Level < t.Level:
		return errForbidden("this ticket is escalated to " + t.Level.String() + "; your level is " + p.user.Level.String())
	}
	return nil
}

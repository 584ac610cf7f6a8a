package console

import (
	"context"
	"strings"
	"time"
)

// DeviceGroup is a set of devices that share permissions, such as
// "Accounting laptops". Every device belongs to exactly one group.
type DeviceGroup struct {
	ID          int64
	Name        string // unique, compared case-insensitively
	Description string
	CreatedAt   time.Time
}

// Validate checks the group's fields and bounds.
func (g *DeviceGroup) Validate() error {
	if err := checkText("group name", g.Name, MaxNameLen, true); err != nil {
		return err
	}
	return checkText("group description", g.Description, MaxTextLen, false)
}

// DeviceGroupUpdate changes the non-nil fields of a group.
type DeviceGroupUpdate struct {
	Name        *string
	Description *string
}

// Permissions is a set of things a technician may do on a group's devices.
type Permissions uint8

// Permission bits.
const (
	PermView       Permissions = 1 << iota // see the device, its inventory and screen
	PermControl                            // send mouse and keyboard input
	PermUnattended                         // connect without a session code
	PermClipboard                          // copy text both ways
	PermFiles                              // transfer files

	PermAll = PermView | PermControl | PermUnattended | PermClipboard | PermFiles
)

var permNames = []struct {
	p    Permissions
	name string
}{
	{PermView, "view"}, {PermControl, "control"}, {PermUnattended, "unattended"},
	{PermClipboard, "clipboard"}, {PermFiles, "files"},
}

// Has reports whether p holds every bit of q.
func (p Permissions) Has(q Permissions) bool { return p&q == q }

// Valid reports whether p holds only known bits.
func (p Permissions) Valid() bool { return p&^PermAll == 0 }

// String lists the permissions, e.g. "view,control", or "none".
func (p Permissions) String() string {
	var names []string
	for _, n := range permNames {
		if p.Has(n.p) {
			names = append(names, n.name)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ",")
}

// Grant gives either one user or every user of a role a set of permissions
// on one device group. Exactly one of UserID and Role is set.
type Grant struct {
	GroupID     int64
	UserID      int64
	Role        Role
	Permissions Permissions
}

// Validate checks that the grant has a group and exactly one subject.
func (g *Grant) Validate() error {
	switch {
	case g.GroupID <= 0:
		return Errorf(CodeInvalid, "grant needs a device group")
	case (g.UserID > 0) == (g.Role != ""):
		return Errorf(CodeInvalid, "grant needs exactly one of user and role")
	case g.Role != "" && !g.Role.Valid():
		return Errorf(CodeInvalid, "unknown role %q", g.Role)
	case !g.Permissions.Valid():
		return Errorf(CodeInvalid, "unknown permission bits")
	}
	return nil
}

// EffectivePermissions returns what u may do on the group that grants
// belong to: everything for an admin, nothing for a disabled user, otherwise
// the union of the grants to u and to u's role.
func EffectivePermissions(u *User, grants []*Grant) Permissions {
	switch {
	case u.Disabled:
		return 0
	case u.Role == RoleAdmin:
		return PermAll
	}
	var p Permissions
	for _, g := range grants {
		if g.UserID == u.ID || (g.UserID == 0 && g.Role == u.Role) {
			p |= g.Permissions
		}
	}
	if u.Role == RoleViewer {
		p &= PermView
	}
	return p
}

// GrantFilter selects grants. Zero fields match everything; UserID and Role
// together select the grants to that user or to that role, which is what
// EffectivePermissions needs.
type GrantFilter struct {
	GroupID int64
	UserID  int64
	Role    Role
}

// GroupService stores device groups and the grants on them.
type GroupService interface {
	CreateDeviceGroup(ctx context.Context, g *DeviceGroup) error
	FindDeviceGroupByID(ctx context.Context, id int64) (*DeviceGroup, error)
	// FindDeviceGroups returns every group by name.
	FindDeviceGroups(ctx context.Context) ([]*DeviceGroup, error)
	UpdateDeviceGroup(ctx context.Context, id int64, upd DeviceGroupUpdate) (*DeviceGroup, error)
	// DeleteDeviceGroup removes a group with its grants and enrollment
	// tokens; ErrConflict while devices belong to it.
	DeleteDeviceGroup(ctx context.Context, id int64) error

	// SetGrant creates or replaces the grant for (group, subject).
	SetGrant(ctx context.Context, g *Grant) error
	// DeleteGrant removes the grant for (group, subject) of g.
	DeleteGrant(ctx context.Context, g *Grant) error
	// FindGrants returns grants by group, then user grants before role grants.
	FindGrants(ctx context.Context, f GrantFilter) ([]*Grant, error)
}

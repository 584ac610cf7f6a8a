package storetest

import (
	"testing"
	"time"

	"github.com/reachdesk/reach/console"
)

func testUsers(t *testing.T, h Harness) {
	e := newEnv(t, h)
	s, ctx := e.s, e.ctx

	u := &console.User{Email: "Jane.Doe@Example.com", Name: "Jane Doe", PasswordHash: "$argon2id$v=19$x",
		Role: console.RoleTechnician, Level: console.L2, TOTPSecret: []byte("0123456789abcdef")}
	e.must(s.CreateUser(ctx, u))
	if u.ID == 0 || !u.CreatedAt.Equal(epoch) || !u.UpdatedAt.Equal(epoch) {
		t.Fatalf("CreateUser set ID %d, CreatedAt %v, UpdatedAt %v", u.ID, u.CreatedAt, u.UpdatedAt)
	}
	got, err := s.FindUserByID(ctx, u.ID)
	e.must(err)
	equal(t, "FindUserByID", *got, *u)
	got, err = s.FindUserByEmail(ctx, "jane.doe@example.COM")
	e.must(err)
	equal(t, "FindUserByEmail ignores case", got.ID, u.ID)

	for _, tc := range []struct {
		name string
		u    console.User
		code console.Code
	}{
		{"duplicate email, other case", console.User{Email: "JANE.DOE@example.com", Name: "X", Role: console.RoleViewer}, console.CodeConflict},
		{"no email", console.User{Name: "X", Role: console.RoleViewer}, console.CodeInvalid},
		{"bad email", console.User{Email: "nope", Name: "X", Role: console.RoleViewer}, console.CodeInvalid},
		{"no name", console.User{Email: "x@example.com", Role: console.RoleViewer}, console.CodeInvalid},
		{"unknown role", console.User{Email: "x@example.com", Name: "X", Role: "root"}, console.CodeInvalid},
		{"technician without level", console.User{Email: "x@example.com", Name: "X", Role: console.RoleTechnician}, console.CodeInvalid},
		{"viewer with level", console.User{Email: "x@example.com", Name: "X", Role: console.RoleViewer, Level: console.L1}, console.CodeInvalid},
		{"name too long", console.User{Email: "x@example.com", Name: string(make([]byte, console.MaxNameLen+1)), Role: console.RoleViewer}, console.CodeInvalid},
	} {
		wantCode(t, "CreateUser "+tc.name, s.CreateUser(ctx, &tc.u), tc.code)
	}

	e.clock.Advance(time.Minute)
	upd, err := s.UpdateUser(ctx, u.ID, console.UserUpdate{Name: ptr("Jane D."), Level: ptr(console.L3),
		TOTPSecret: ptr([]byte(nil)), Disabled: ptr(true)})
	e.must(err)
	want := *u
	want.Name, want.Level, want.TOTPSecret, want.Disabled, want.UpdatedAt = "Jane D.", console.L3, nil, true, epoch.Add(time.Minute)
	equal(t, "UpdateUser result", *upd, want)
	got, err = s.FindUserByID(ctx, u.ID)
	e.must(err)
	equal(t, "updated user", *got, want)

	other := e.user(console.RoleViewer, 0)
	_, err = s.UpdateUser(ctx, other.ID, console.UserUpdate{Email: ptr("jane.doe@example.com")})
	wantCode(t, "UpdateUser to a taken email", err, console.CodeConflict)
	_, err = s.UpdateUser(ctx, other.ID, console.UserUpdate{Role: ptr(console.RoleTechnician)})
	wantCode(t, "UpdateUser to technician without level", err, console.CodeInvalid)
	_, err = s.UpdateUser(ctx, 999999, console.UserUpdate{Name: ptr("x")})
	wantCode(t, "UpdateUser missing", err, console.CodeNotFound)

	admin := e.user(console.RoleAdmin, 0)
	all, err := s.FindUsers(ctx, console.UserFilter{})
	e.must(err)
	equal(t, "FindUsers IDs", ids(all), []int64{u.ID, other.ID, admin.ID})
	page, err := s.FindUsers(ctx, console.UserFilter{AfterID: u.ID, Limit: 1})
	e.must(err)
	equal(t, "FindUsers page", ids(page), []int64{other.ID})
	viewers, err := s.FindUsers(ctx, console.UserFilter{Role: console.RoleViewer})
	e.must(err)
	equal(t, "FindUsers role", ids(viewers), []int64{other.ID})
	disabled, err := s.FindUsers(ctx, console.UserFilter{Disabled: ptr(true)})
	e.must(err)
	equal(t, "FindUsers disabled", ids(disabled), []int64{u.ID})

	// Deleting a user keeps what they authored, without the author.
	tk := e.ticket(func(t *console.Ticket) { t.AssigneeID, t.CreatedBy = other.ID, other.ID })
	e.must(s.DeleteUser(ctx, other.ID))
	_, err = s.FindUserByID(ctx, other.ID)
	wantCode(t, "FindUserByID deleted", err, console.CodeNotFound)
	_, err = s.FindUserByEmail(ctx, other.Email)
	wantCode(t, "FindUserByEmail deleted", err, console.CodeNotFound)
	wantCode(t, "DeleteUser twice", s.DeleteUser(ctx, other.ID), console.CodeNotFound)
	gotT, err := s.FindTicketByID(ctx, tk.ID)
	e.must(err)
	if gotT.AssigneeID != 0 || gotT.CreatedBy != 0 {
		t.Errorf("ticket of deleted user: assignee %d, created by %d; want 0, 0", gotT.AssigneeID, gotT.CreatedBy)
	}
}

// ids returns the IDs of users in order.
func ids(us []*console.User) []int64 {
	out := []int64{}
	for _, u := range us {
		out = append(out, u.ID)
	}
	return out
}

func testAPITokens(t *testing.T, h Harness) {
	e := newEnv(t, h)
	s, ctx := e.s, e.ctx
	u := e.tech()
	tok := &console.APIToken{UserID: u.ID, Name: "ci", Hash: hash("api 1"), ExpiresAt: epoch.Add(30 * 24 * time.Hour)}
	e.must(s.CreateAPIToken(ctx, tok))
	got, err := s.FindAPITokenByHash(ctx, hash("api 1"))
	e.must(err)
	equal(t, "FindAPITokenByHash", *got, *tok)
	_, err = s.FindAPITokenByHash(ctx, hash("api 2"))
	wantCode(t, "FindAPITokenByHash unknown", err, console.CodeNotFound)

	wantCode(t, "duplicate hash", s.CreateAPIToken(ctx, &console.APIToken{UserID: u.ID, Name: "x", Hash: hash("api 1")}), console.CodeConflict)
	wantCode(t, "short hash", s.CreateAPIToken(ctx, &console.APIToken{UserID: u.ID, Name: "x", Hash: []byte("short")}), console.CodeInvalid)
	wantCode(t, "unknown user", s.CreateAPIToken(ctx, &console.APIToken{UserID: 99999, Name: "x", Hash: hash("api 3")}), console.CodeNotFound)

	second := &console.APIToken{UserID: u.ID, Name: "backup", Hash: hash("api 4")}
	e.must(s.CreateAPIToken(ctx, second))
	used := epoch.Add(time.Hour + 123*time.Microsecond)
	e.must(s.TouchAPIToken(ctx, tok.ID, used))
	wantCode(t, "TouchAPIToken missing", s.TouchAPIToken(ctx, 99999, used), console.CodeNotFound)
	list, err := s.FindAPITokens(ctx, u.ID)
	e.must(err)
	tok.LastUsedAt = used
	equal(t, "FindAPITokens", deref(list), []console.APIToken{*tok, *second})

	e.must(s.DeleteAPIToken(ctx, tok.ID))
	wantCode(t, "DeleteAPIToken twice", s.DeleteAPIToken(ctx, tok.ID), console.CodeNotFound)
	e.must(s.DeleteUser(ctx, u.ID))
	_, err = s.FindAPITokenByHash(ctx, second.Hash)
	wantCode(t, "token of deleted user", err, console.CodeNotFound)
}

func testTeams(t *testing.T, h Harness) {
	e := newEnv(t, h)
	s, ctx := e.s, e.ctx
	desk := &console.Team{Name: "Service Desk"}
	e.must(s.CreateTeam(ctx, desk))
	net := &console.Team{Name: "Network"}
	e.must(s.CreateTeam(ctx, net))
	wantCode(t, "duplicate team name", s.CreateTeam(ctx, &console.Team{Name: "service desk"}), console.CodeConflict)
	wantCode(t, "empty team name", s.CreateTeam(ctx, &console.Team{Name: " "}), console.CodeInvalid)

	got, err := s.FindTeamByID(ctx, desk.ID)
	e.must(err)
	equal(t, "FindTeamByID", *got, *desk)
	all, err := s.FindTeams(ctx, 0)
	e.must(err)
	equal(t, "FindTeams by name", deref(all), []console.Team{*net, *desk})

	renamed, err := s.RenameTeam(ctx, net.ID, "Networking")
	e.must(err)
	equal(t, "RenameTeam", renamed.Name, "Networking")
	_, err = s.RenameTeam(ctx, net.ID, "Service Desk")
	wantCode(t, "RenameTeam to taken name", err, console.CodeConflict)
	_, err = s.RenameTeam(ctx, 9999, "X")
	wantCode(t, "RenameTeam missing", err, console.CodeNotFound)

	a, b := e.tech(), e.tech()
	e.must(s.AddTeamMember(ctx, desk.ID, b.ID))
	e.must(s.AddTeamMember(ctx, desk.ID, a.ID))
	e.must(s.AddTeamMember(ctx, desk.ID, a.ID)) // idempotent
	e.must(s.AddTeamMember(ctx, net.ID, a.ID))
	wantCode(t, "AddTeamMember unknown user", s.AddTeamMember(ctx, desk.ID, 9999), console.CodeInvalid)
	members, err := s.FindTeamMembers(ctx, desk.ID)
	e.must(err)
	equal(t, "FindTeamMembers", members, []int64{a.ID, b.ID})
	mine, err := s.FindTeams(ctx, a.ID)
	e.must(err)
	equal(t, "FindTeams of user", len(mine), 2)
	e.must(s.RemoveTeamMember(ctx, desk.ID, a.ID))
	wantCode(t, "RemoveTeamMember twice", s.RemoveTeamMember(ctx, desk.ID, a.ID), console.CodeNotFound)
	mine, err = s.FindTeams(ctx, a.ID)
	e.must(err)
	equal(t, "FindTeams after removal", len(mine), 1)

	tk := e.ticket(func(t *console.Ticket) { t.TeamID = desk.ID })
	e.must(s.DeleteTeam(ctx, desk.ID))
	wantCode(t, "DeleteTeam twice", s.DeleteTeam(ctx, desk.ID), console.CodeNotFound)
	_, err = s.FindTeamByID(ctx, desk.ID)
	wantCode(t, "FindTeamByID deleted", err, console.CodeNotFound)
	gotT, err := s.FindTicketByID(ctx, tk.ID)
	e.must(err)
	equal(t, "team of ticket after DeleteTeam", gotT.TeamID, int64(0))
}

func testGroupsAndGrants(t *testing.T, h Harness) {
	e := newEnv(t, h)
	s, ctx := e.s, e.ctx
	g := &console.DeviceGroup{Name: "Accounting", Description: "Accounting laptops"}
	e.must(s.CreateDeviceGroup(ctx, g))
	wantCode(t, "duplicate group", s.CreateDeviceGroup(ctx, &console.DeviceGroup{Name: "ACCOUNTING"}), console.CodeConflict)
	got, err := s.FindDeviceGroupByID(ctx, g.ID)
	e.must(err)
	equal(t, "FindDeviceGroupByID", *got, *g)
	upd, err := s.UpdateDeviceGroup(ctx, g.ID, console.DeviceGroupUpdate{Description: ptr("Finance laptops")})
	e.must(err)
	equal(t, "UpdateDeviceGroup", upd.Description, "Finance laptops")
	_, err = s.UpdateDeviceGroup(ctx, 9999, console.DeviceGroupUpdate{Name: ptr("x")})
	wantCode(t, "UpdateDeviceGroup missing", err, console.CodeNotFound)
	other := e.group()
	groups, err := s.FindDeviceGroups(ctx)
	e.must(err)
	equal(t, "FindDeviceGroups count", len(groups), 2)
	equal(t, "FindDeviceGroups first by name", groups[0].ID, g.ID)

	tech, viewer := e.tech(), e.user(console.RoleViewer, 0)
	e.must(s.SetGrant(ctx, &console.Grant{GroupID: g.ID, Role: console.RoleTechnician, Permissions: console.PermView}))
	e.must(s.SetGrant(ctx, &console.Grant{GroupID: g.ID, UserID: tech.ID, Permissions: console.PermControl}))
	// SetGrant replaces.
	e.must(s.SetGrant(ctx, &console.Grant{GroupID: g.ID, UserID: tech.ID, Permissions: console.PermControl | console.PermFiles}))
	e.must(s.SetGrant(ctx, &console.Grant{GroupID: g.ID, Role: console.RoleViewer, Permissions: console.PermAll}))
	e.must(s.SetGrant(ctx, &console.Grant{GroupID: other.ID, UserID: tech.ID, Permissions: console.PermView}))
	wantCode(t, "grant with two subjects", s.SetGrant(ctx, &console.Grant{GroupID: g.ID, UserID: tech.ID, Role: console.RoleViewer}), console.CodeInvalid)
	wantCode(t, "grant on unknown group", s.SetGrant(ctx, &console.Grant{GroupID: 9999, Role: console.RoleViewer}), console.CodeInvalid)

	mine, err := s.FindGrants(ctx, console.GrantFilter{GroupID: g.ID, UserID: tech.ID, Role: tech.Role})
	e.must(err)
	equal(t, "grants of technician", deref(mine), []console.Grant{
		{GroupID: g.ID, UserID: tech.ID, Permissions: console.PermControl | console.PermFiles},
		{GroupID: g.ID, Role: console.RoleTechnician, Permissions: console.PermView},
	})
	equal(t, "technician permissions", console.EffectivePermissions(tech, mine), console.PermView|console.PermControl|console.PermFiles)
	vg, err := s.FindGrants(ctx, console.GrantFilter{GroupID: g.ID, UserID: viewer.ID, Role: viewer.Role})
	e.must(err)
	equal(t, "viewer permissions are capped to view", console.EffectivePermissions(viewer, vg), console.PermView)
	byUser, err := s.FindGrants(ctx, console.GrantFilter{UserID: tech.ID})
	e.must(err)
	equal(t, "grants of user in all groups", len(byUser), 2)

	e.must(s.DeleteGrant(ctx, &console.Grant{GroupID: g.ID, UserID: tech.ID}))
	wantCode(t, "DeleteGrant twice", s.DeleteGrant(ctx, &console.Grant{GroupID: g.ID, UserID: tech.ID}), console.CodeNotFound)
	all, err := s.FindGrants(ctx, console.GrantFilter{GroupID: g.ID})
	e.must(err)
	equal(t, "grants after delete", len(all), 2)

	// A group with devices cannot be deleted; an empty one takes its grants
	// and tokens with it.
	d := e.device(g, "pc-1")
	wantCode(t, "DeleteDeviceGroup with devices", s.DeleteDeviceGroup(ctx, g.ID), console.CodeConflict)
	e.must(s.DeleteDevice(ctx, d.ID))
	e.must(s.DeleteDeviceGroup(ctx, g.ID))
	wantCode(t, "DeleteDeviceGroup twice", s.DeleteDeviceGroup(ctx, g.ID), console.CodeNotFound)
	all, err = s.FindGrants(ctx, console.GrantFilter{GroupID: g.ID})
	e.must(err)
	equal(t, "grants of deleted group", len(all), 0)
	tokens, err := s.FindEnrollmentTokens(ctx, g.ID)
	e.must(err)
	equal(t, "tokens of deleted group", len(tokens), 0)
}

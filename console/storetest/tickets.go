package storetest

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/reachdesk/reach/console"
)

func testTickets(t *testing.T, h Harness) {
	e := newEnv(t, h)
	s, ctx := e.s, e.ctx
	tech, lead := e.tech(), e.user(console.RoleTechnician, console.L2)
	team := e.team()
	g := e.group()
	d1, d2 := e.device(g, "pc-1"), e.device(g, "pc-2")

	tk := &console.Ticket{Title: "Printer jams", Description: "Floor 3 printer jams on A3.",
		Requester: console.Requester{Name: "Ann", Email: "ann@example.com", Phone: "+1 555 0100"},
		Channel:   console.ChannelPhone, Category: "hardware", Priority: console.P2, Status: console.StatusNew,
		TeamID: team.ID, Level: console.L1, FirstResponseDue: epoch.Add(time.Hour), ResolutionDue: epoch.Add(8 * time.Hour),
		DeviceIDs: []int64{d2.ID, d1.ID, d2.ID}, CreatedBy: tech.ID}
	e.must(s.CreateTicket(ctx, tk))
	if tk.ID == 0 || tk.Version != 1 || !tk.CreatedAt.Equal(epoch) {
		t.Fatalf("CreateTicket set ID %d, version %d, created %v", tk.ID, tk.Version, tk.CreatedAt)
	}
	equal(t, "linked devices, sorted", tk.DeviceIDs, []int64{d1.ID, d2.ID})
	got, err := s.FindTicketByID(ctx, tk.ID)
	e.must(err)
	equal(t, "FindTicketByID", *got, *tk)

	for _, tc := range []struct {
		name string
		mod  func(*console.Ticket)
		code console.Code
	}{
		{"no title", func(t *console.Ticket) { t.Title = "" }, console.CodeInvalid},
		{"priority P5", func(t *console.Ticket) { t.Priority = 5 }, console.CodeInvalid},
		{"unknown channel", func(t *console.Ticket) { t.Channel = "fax" }, console.CodeInvalid},
		{"unknown status", func(t *console.Ticket) { t.Status = "done" }, console.CodeInvalid},
		{"no level", func(t *console.Ticket) { t.Level = 0 }, console.CodeInvalid},
		{"bad requester email", func(t *console.Ticket) { t.Requester.Email = "ann at example" }, console.CodeInvalid},
		{"title too long", func(t *console.Ticket) { t.Title = string(make([]byte, console.MaxTitleLen+1)) }, console.CodeInvalid},
		{"unknown assignee", func(t *console.Ticket) { t.AssigneeID = 9999 }, console.CodeInvalid},
		{"unknown device", func(t *console.Ticket) { t.DeviceIDs = []int64{9999} }, console.CodeInvalid},
	} {
		bad := console.Ticket{Title: "x", Channel: console.ChannelEmail, Priority: console.P3, Status: console.StatusNew, Level: console.L1}
		tc.mod(&bad)
		wantCode(t, "CreateTicket "+tc.name, s.CreateTicket(ctx, &bad), tc.code)
	}
	n, err := s.CountTickets(ctx, console.TicketFilter{})
	e.must(err)
	equal(t, "failed creates leave nothing", n, 1)

	e.clock.Advance(10 * time.Minute)
	responded := e.clock.Now()
	upd, err := s.UpdateTicket(ctx, tk.ID, console.TicketUpdate{Status: ptr(console.StatusOpen), AssigneeID: ptr(tech.ID),
		Priority: ptr(console.P1), FirstRespondedAt: &responded, Title: ptr(tk.Title), ActorID: tech.ID, IfVersion: 1})
	e.must(err)
	equal(t, "version after update", upd.Version, int64(2))
	equal(t, "UpdatedAt after update", upd.UpdatedAt, responded)
	got, err = s.FindTicketByID(ctx, tk.ID)
	e.must(err)
	equal(t, "updated ticket", *got, *upd)
	if got.Status != console.StatusOpen || got.AssigneeID != tech.ID || got.Priority != console.P1 || !got.FirstRespondedAt.Equal(responded) {
		t.Errorf("update not applied: %+v", got)
	}

	_, err = s.UpdateTicket(ctx, tk.ID, console.TicketUpdate{Status: ptr(console.StatusPending), IfVersion: 1})
	wantCode(t, "stale IfVersion", err, console.CodeConflict)
	same, err := s.UpdateTicket(ctx, tk.ID, console.TicketUpdate{Status: ptr(console.StatusOpen), ActorID: tech.ID})
	e.must(err)
	equal(t, "no-op update keeps the version", same.Version, int64(2))
	_, err = s.UpdateTicket(ctx, tk.ID, console.TicketUpdate{Priority: ptr(console.Priority(9))})
	wantCode(t, "invalid update", err, console.CodeInvalid)
	_, err = s.UpdateTicket(ctx, tk.ID, console.TicketUpdate{AssigneeID: ptr(int64(9999))})
	wantCode(t, "update to unknown assignee", err, console.CodeInvalid)
	_, err = s.UpdateTicket(ctx, 9999, console.TicketUpdate{Title: ptr("x")})
	wantCode(t, "update missing ticket", err, console.CodeNotFound)

	// Escalation, resolution and a reopen.
	e.clock.Advance(time.Hour)
	_, err = s.UpdateTicket(ctx, tk.ID, console.TicketUpdate{Level: ptr(console.L2), AssigneeID: ptr(lead.ID), ActorID: tech.ID})
	e.must(err)
	resolved := e.clock.Now()
	_, err = s.UpdateTicket(ctx, tk.ID, console.TicketUpdate{Status: ptr(console.StatusResolved), ResolvedAt: &resolved, ActorID: lead.ID})
	e.must(err)
	reopened, err := s.UpdateTicket(ctx, tk.ID, console.TicketUpdate{Status: ptr(console.StatusReopened), ResolvedAt: ptr(time.Time{})})
	e.must(err)
	equal(t, "reopen count", reopened.ReopenCount, 1)
	equal(t, "version after four updates", reopened.Version, int64(5))

	events, err := s.FindTicketEvents(ctx, tk.ID)
	e.must(err)
	type ev struct {
		Actor   int64
		Kind    console.TicketEventKind
		Changes []console.FieldChange
	}
	var gotEvents []ev
	for _, x := range events {
		gotEvents = append(gotEvents, ev{x.ActorID, x.Kind, x.Changes})
	}
	rfc := func(t time.Time) string { return t.Format(time.RFC3339Nano) }
	equal(t, "ticket history", gotEvents, []ev{
		{tech.ID, console.EventCreated, nil},
		{tech.ID, console.EventUpdated, []console.FieldChange{
			{Field: "priority", Old: "P2", New: "P1"},
			{Field: "status", Old: "new", New: "open"},
			{Field: "assignee", Old: "", New: fmt.Sprint(tech.ID)},
			{Field: "first_responded_at", Old: "", New: rfc(responded)},
		}},
		{tech.ID, console.EventUpdated, []console.FieldChange{
			{Field: "assignee", Old: fmt.Sprint(tech.ID), New: fmt.Sprint(lead.ID)},
			{Field: "level", Old: "L1", New: "L2"},
		}},
		{lead.ID, console.EventUpdated, []console.FieldChange{
			{Field: "status", Old: "open", New: "resolved"},
			{Field: "resolved_at", Old: "", New: rfc(resolved)},
		}},
		{0, console.EventUpdated, []console.FieldChange{
			{Field: "status", Old: "resolved", New: "reopened"},
			{Field: "resolved_at", Old: rfc(resolved), New: ""},
		}},
	})
	for i, x := range events {
		if x.ID == 0 || x.TicketID != tk.ID || (i > 0 && !x.At.After(events[0].At)) {
			t.Errorf("event %d: %+v", i, x)
		}
	}

	e.must(s.AddComment(ctx, &console.Comment{TicketID: tk.ID, AuthorID: tech.ID, Body: "on it"}))
	e.must(s.DeleteTicket(ctx, tk.ID))
	_, err = s.FindTicketByID(ctx, tk.ID)
	wantCode(t, "FindTicketByID deleted", err, console.CodeNotFound)
	wantCode(t, "DeleteTicket twice", s.DeleteTicket(ctx, tk.ID), console.CodeNotFound)
	comments, err := s.FindComments(ctx, tk.ID, true)
	e.must(err)
	equal(t, "comments of deleted ticket", len(comments), 0)
	page, err := s.FindTickets(ctx, console.TicketFilter{Text: "printer"})
	e.must(err)
	equal(t, "deleted ticket leaves the search index", len(page.Tickets), 0)
}

func testTicketChildren(t *testing.T, h Harness) {
	e := newEnv(t, h)
	s, ctx := e.s, e.ctx
	tech := e.tech()
	tk := e.ticket(nil)
	d := e.device(e.group(), "pc")

	e.clock.Advance(time.Minute)
	pub := &console.Comment{TicketID: tk.ID, AuthorID: tech.ID, Body: "Please restart the printer."}
	e.must(s.AddComment(ctx, pub))
	internal := &console.Comment{TicketID: tk.ID, AuthorID: tech.ID, Body: "Probably the fuser.", Internal: true}
	e.must(s.AddComment(ctx, internal))
	fromRequester := &console.Comment{TicketID: tk.ID, Body: "Done, still broken."}
	e.must(s.AddComment(ctx, fromRequester))
	wantCode(t, "empty comment", s.AddComment(ctx, &console.Comment{TicketID: tk.ID, Body: "  "}), console.CodeInvalid)
	wantCode(t, "comment on missing ticket", s.AddComment(ctx, &console.Comment{TicketID: 9999, Body: "x"}), console.CodeNotFound)
	all, err := s.FindComments(ctx, tk.ID, true)
	e.must(err)
	equal(t, "all comments", deref(all), []console.Comment{*pub, *internal, *fromRequester})
	public, err := s.FindComments(ctx, tk.ID, false)
	e.must(err)
	equal(t, "public comments", deref(public), []console.Comment{*pub, *fromRequester})
	got, err := s.FindTicketByID(ctx, tk.ID)
	e.must(err)
	equal(t, "a comment bumps UpdatedAt", got.UpdatedAt, epoch.Add(time.Minute))

	a := &console.Attachment{TicketID: tk.ID, CommentID: pub.ID, Name: "error.png", ContentType: "image/png", Size: 2048,
		SHA256: hash("png"), BlobKey: "attachments/ab/cd", UploadedBy: tech.ID}
	e.must(s.CreateAttachment(ctx, a))
	gotA, err := s.FindAttachmentByID(ctx, a.ID)
	e.must(err)
	equal(t, "FindAttachmentByID", *gotA, *a)
	b := &console.Attachment{TicketID: tk.ID, Name: "log.txt", ContentType: "text/plain", Size: 10, SHA256: hash("log"), BlobKey: "attachments/ef"}
	e.must(s.CreateAttachment(ctx, b))
	list, err := s.FindAttachments(ctx, tk.ID)
	e.must(err)
	equal(t, "FindAttachments", deref(list), []console.Attachment{*a, *b})
	wantCode(t, "attachment without hash", s.CreateAttachment(ctx, &console.Attachment{TicketID: tk.ID, Name: "x",
		ContentType: "text/plain", BlobKey: "k"}), console.CodeInvalid)
	e.must(s.DeleteAttachment(ctx, a.ID, tech.ID))
	wantCode(t, "DeleteAttachment twice", s.DeleteAttachment(ctx, a.ID, tech.ID), console.CodeNotFound)
	_, err = s.FindAttachmentByID(ctx, a.ID)
	wantCode(t, "FindAttachmentByID deleted", err, console.CodeNotFound)

	e.must(s.LinkDevice(ctx, tk.ID, d.ID, tech.ID))
	e.must(s.LinkDevice(ctx, tk.ID, d.ID, tech.ID)) // idempotent, no second event
	wantCode(t, "link unknown device", s.LinkDevice(ctx, tk.ID, 9999, tech.ID), console.CodeNotFound)
	wantCode(t, "link to unknown ticket", s.LinkDevice(ctx, 9999, d.ID, tech.ID), console.CodeNotFound)
	got, err = s.FindTicketByID(ctx, tk.ID)
	e.must(err)
	equal(t, "linked", got.DeviceIDs, []int64{d.ID})
	page, err := s.FindTickets(ctx, console.TicketFilter{DeviceID: d.ID})
	e.must(err)
	equal(t, "tickets of device", len(page.Tickets), 1)
	equal(t, "device links in the queue", page.Tickets[0].DeviceIDs, []int64{d.ID})
	e.must(s.UnlinkDevice(ctx, tk.ID, d.ID, tech.ID))
	e.must(s.UnlinkDevice(ctx, tk.ID, d.ID, tech.ID))
	got, err = s.FindTicketByID(ctx, tk.ID)
	e.must(err)
	equal(t, "unlinked", len(got.DeviceIDs), 0)

	custom := &console.TicketEvent{TicketID: tk.ID, Kind: "sla_warning", Changes: []console.FieldChange{{Field: "sla", Old: "ok", New: "warning"}}}
	e.must(s.AddTicketEvent(ctx, custom))
	wantCode(t, "event kind with spaces", s.AddTicketEvent(ctx, &console.TicketEvent{TicketID: tk.ID, Kind: "bad kind"}), console.CodeInvalid)
	wantCode(t, "event on missing ticket", s.AddTicketEvent(ctx, &console.TicketEvent{TicketID: 9999, Kind: "x"}), console.CodeNotFound)

	events, err := s.FindTicketEvents(ctx, tk.ID)
	e.must(err)
	var kinds []string
	for _, x := range events {
		kinds = append(kinds, fmt.Sprintf("%s:%d", x.Kind, x.RefID))
	}
	equal(t, "history of children", kinds, []string{
		"created:0",
		fmt.Sprintf("commented:%d", pub.ID), fmt.Sprintf("commented:%d", internal.ID), fmt.Sprintf("commented:%d", fromRequester.ID),
		fmt.Sprintf("attachment_added:%d", a.ID), fmt.Sprintf("attachment_added:%d", b.ID), fmt.Sprintf("attachment_removed:%d", a.ID),
		fmt.Sprintf("device_linked:%d", d.ID), fmt.Sprintf("device_unlinked:%d", d.ID),
		"sla_warning:0",
	})
	equal(t, "custom event", *events[len(events)-1], *custom)
}

// queueWorld is a set of tickets with varied fields and the IDs they need.
type queueWorld struct {
	tickets []*console.Ticket
	techs   []*console.User
	teams   []*console.Team
	device  *console.Device
	now     time.Time
}

// buildQueue creates n tickets with pseudo-random but reproducible fields.
func buildQueue(e *env, n int) *queueWorld {
	w := &queueWorld{techs: []*console.User{e.tech(), e.tech(), e.tech()}, teams: []*console.Team{e.team(), e.team()},
		device: e.device(e.group(), "linked")}
	rng := rand.New(rand.NewPCG(1, 2))
	statuses := []console.Status{console.StatusNew, console.StatusOpen, console.StatusPending, console.StatusResolved,
		console.StatusClosed, console.StatusReopened}
	var imported []*console.Ticket
	for i := range n {
		t := &console.Ticket{Title: fmt.Sprintf("Queue ticket %d", i), Channel: console.ChannelEmail,
			Priority: console.Priority(1 + rng.IntN(4)), Status: statuses[rng.IntN(len(statuses))],
			Level: console.Level(1 + rng.IntN(3)), Category: []string{"", "network", "hardware"}[rng.IntN(3)]}
		if k := rng.IntN(4); k < 3 {
			t.AssigneeID = w.techs[k].ID
		}
		if k := rng.IntN(3); k < 2 {
			t.TeamID = w.teams[k].ID
		}
		if rng.IntN(5) > 0 {
			t.FirstResponseDue = epoch.Add(time.Duration(rng.IntN(96)) * time.Hour)
			t.ResolutionDue = t.FirstResponseDue.Add(time.Duration(rng.IntN(48)) * time.Hour)
		}
		if rng.IntN(3) == 0 {
			t.FirstRespondedAt = epoch.Add(time.Duration(rng.IntN(60)) * time.Minute)
		}
		if t.Status == console.StatusPending {
			t.PausedAt = epoch.Add(time.Hour)
		}
		if t.Status.Done() {
			t.ResolvedAt = epoch.Add(2 * time.Hour)
		}
		if i%5 == 4 {
			// Imported tickets share a creation time, to test tie-breaks.
			t.CreatedAt = epoch.Add(-time.Hour)
			imported = append(imported, t)
			continue
		}
		e.clock.Advance(time.Minute)
		if i%7 == 0 {
			t.DeviceIDs = []int64{w.device.ID}
		}
		e.must(e.s.CreateTicket(e.ctx, t))
		w.tickets = append(w.tickets, t)
	}
	e.must(e.s.ImportTickets(e.ctx, imported))
	w.tickets = append(w.tickets, imported...)
	// Touch some tickets so that the update order differs from creation.
	for i, t := range w.tickets {
		if i%3 == 0 {
			e.clock.Advance(time.Minute)
			upd, err := e.s.UpdateTicket(e.ctx, t.ID, console.TicketUpdate{Category: ptr("touched")})
			e.must(err)
			*t = *upd
		}
	}
	w.now = epoch.Add(36 * time.Hour)
	return w
}

// matches is the reference implementation of TicketFilter (without Text).
func matches(t *console.Ticket, f *console.TicketFilter) bool {
	if len(f.Statuses) > 0 && !slices.Contains(f.Statuses, t.Status) {
		return false
	}
	if len(f.Priorities) > 0 && !slices.Contains(f.Priorities, t.Priority) {
		return false
	}
	warn := cmp.Or(f.WarnWithin, console.DefaultSLAWarning)
	switch {
	case f.AssigneeID != 0 && t.AssigneeID != f.AssigneeID,
		f.Unassigned && t.AssigneeID != 0,
		f.TeamID != 0 && t.TeamID != f.TeamID,
		f.Level != 0 && t.Level != f.Level,
		f.Category != "" && t.Category != f.Category,
		f.DeviceID != 0 && !slices.Contains(t.DeviceIDs, f.DeviceID),
		f.SLA != "" && t.SLAState(f.Now, warn) != f.SLA:
		return false
	}
	return true
}

// reference returns the IDs FindTickets should return, in order.
func reference(ts []*console.Ticket, f *console.TicketFilter) []int64 {
	var sel []*console.Ticket
	for _, t := range ts {
		if matches(t, f) {
			sel = append(sel, t)
		}
	}
	slices.SortFunc(sel, func(a, b *console.Ticket) int {
		switch f.Sort {
		case console.SortUpdated:
			return cmp.Or(b.UpdatedAt.Compare(a.UpdatedAt), cmp.Compare(b.ID, a.ID))
		case console.SortDue:
			ad, bd := a.NextDue(), b.NextDue()
			switch {
			case ad.IsZero() && !bd.IsZero():
				return 1
			case !ad.IsZero() && bd.IsZero():
				return -1
			}
			return cmp.Or(ad.Compare(bd), cmp.Compare(a.ID, b.ID))
		}
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(b.ID, a.ID))
	})
	out := []int64{}
	for _, t := range sel {
		out = append(out, t.ID)
	}
	return out
}

// walk pages through FindTickets with pages of size and returns the IDs.
func walk(e *env, f console.TicketFilter, size int) []int64 {
	e.t.Helper()
	f.Limit = size
	out := []int64{}
	for pages := 0; ; pages++ {
		page, err := e.s.FindTickets(e.ctx, f)
		if err != nil {
			e.t.Fatalf("FindTickets(%+v): %v", f, err)
		}
		if len(page.Tickets) > size || (page.Next != "" && len(page.Tickets) != size) {
			e.t.Fatalf("FindTickets returned %d tickets with next %q for limit %d", len(page.Tickets), page.Next, size)
		}
		for _, t := range page.Tickets {
			out = append(out, t.ID)
		}
		if page.Next == "" {
			return out
		}
		if pages > 1000 {
			e.t.Fatal("FindTickets pages do not end")
		}
		f.Cursor = page.Next
	}
}

func testTicketQueue(t *testing.T, h Harness) {
	e := newEnv(t, h)
	w := buildQueue(e, 90)
	active := []console.Status{console.StatusNew, console.StatusOpen, console.StatusReopened}
	filters := []struct {
		name string
		f    console.TicketFilter
	}{
		{"all", console.TicketFilter{}},
		{"active", console.TicketFilter{Statuses: active}},
		{"P1 and P2", console.TicketFilter{Priorities: []console.Priority{console.P1, console.P2}}},
		{"assignee", console.TicketFilter{AssigneeID: w.techs[0].ID}},
		{"unassigned", console.TicketFilter{Unassigned: true}},
		{"team", console.TicketFilter{TeamID: w.teams[1].ID}},
		{"level L2", console.TicketFilter{Level: console.L2}},
		{"category", console.TicketFilter{Category: "network"}},
		{"device", console.TicketFilter{DeviceID: w.device.ID}},
		{"breached", console.TicketFilter{SLA: console.SLABreached}},
		{"warning in 6h", console.TicketFilter{SLA: console.SLAWarning, WarnWithin: 6 * time.Hour}},
		{"ok", console.TicketFilter{SLA: console.SLAOK}},
		{"paused", console.TicketFilter{SLA: console.SLAPaused}},
		{"no SLA", console.TicketFilter{SLA: console.SLANone}},
		{"my active team queue, breached", console.TicketFilter{Statuses: active, TeamID: w.teams[0].ID, SLA: console.SLABreached}},
		{"active P1-P3 unassigned", console.TicketFilter{Statuses: active, Priorities: []console.Priority{1, 2, 3}, Unassigned: true}},
	}
	for _, tc := range filters {
		for _, sort := range []console.TicketSort{console.SortNewest, console.SortUpdated, console.SortDue} {
			f := tc.f
			f.Sort, f.Now = sort, w.now
			want := reference(w.tickets, &f)
			equal(t, fmt.Sprintf("%s by %s", tc.name, sort), walk(e, f, 7), want)
			n, err := e.s.CountTickets(e.ctx, f)
			e.must(err)
			equal(t, fmt.Sprintf("CountTickets %s", tc.name), n, len(want))
		}
	}
	// Sanity: the filters above are not vacuous.
	for _, state := range []console.SLAState{console.SLABreached, console.SLAOK, console.SLAPaused, console.SLANone} {
		if len(reference(w.tickets, &console.TicketFilter{SLA: state, Now: w.now})) == 0 {
			t.Errorf("fixture has no %s tickets", state)
		}
	}
	// The default order is newest first, and a full page reads in one go.
	page, err := e.s.FindTickets(e.ctx, console.TicketFilter{Limit: console.MaxPageSize})
	e.must(err)
	equal(t, "default order", len(page.Tickets), len(w.tickets))
	equal(t, "no next page", page.Next, "")

	first, err := e.s.FindTickets(e.ctx, console.TicketFilter{Sort: console.SortDue, Limit: 3})
	e.must(err)
	for _, bad := range []console.TicketFilter{
		{Statuses: []console.Status{"done"}},
		{Unassigned: true, AssigneeID: w.techs[0].ID},
		{SLA: "late"},
		{Sort: "random"},
		{Sort: console.SortNewest, Cursor: first.Next},
		{Cursor: "!!"},
	} {
		_, err := e.s.FindTickets(e.ctx, bad)
		wantCode(t, fmt.Sprintf("FindTickets(%+v)", bad), err, console.CodeInvalid)
	}
}

func testTicketSearch(t *testing.T, h Harness) {
	e := newEnv(t, h)
	s, ctx := e.s, e.ctx
	mk := func(title, desc, email string) *console.Ticket {
		return e.ticket(func(t *console.Ticket) { t.Title, t.Description, t.Requester.Email = title, desc, email })
	}
	printer := mk("Printer jams on floor 3", "The HP LaserJet says 'paper jam'.", "ann@example.com")
	vpn := mk("VPN client fails", "Error 809 when connecting from home.", "bob@corp.example")
	cafe := mk("Café Wi-Fi portal", "Guest network captive portal loops.", "")
	mk("Password reset", "User forgot their password.", "carol@example.com")
	for _, tc := range []struct {
		text string
		want []int64
	}{
		{"printer", []int64{printer.ID}},
		{"PRINT", []int64{printer.ID}},
		{"jam floor", []int64{printer.ID}},
		{"vpn home", []int64{vpn.ID}},
		{"vpn printer", []int64{}},
		{"809", []int64{vpn.ID}},
		{"corp", []int64{vpn.ID}},
		{"CAFÉ", []int64{cafe.ID}},
		{"wi-fi", []int64{cafe.ID}},
		{"portal", []int64{cafe.ID}},
		{fmt.Sprintf("#%d", vpn.ID), []int64{vpn.ID}},
		{"hp laserjet", []int64{printer.ID}},
		{`"jam" -* (`, []int64{printer.ID}},
		{`"jam" OR floor*`, []int64{}},
	} {
		equal(t, fmt.Sprintf("search %q", tc.text), walk(e, console.TicketFilter{Text: tc.text}, 10), tc.want)
	}
	// Search combines with filters and follows updates.
	_, err := s.UpdateTicket(ctx, vpn.ID, console.TicketUpdate{Title: ptr("Remote access broken"), Status: ptr(console.StatusOpen)})
	e.must(err)
	equal(t, "old title gone", walk(e, console.TicketFilter{Text: "client"}, 10), []int64{})
	equal(t, "new title found", walk(e, console.TicketFilter{Text: "remote", Statuses: []console.Status{console.StatusOpen}}, 10), []int64{vpn.ID})
	equal(t, "description still found", walk(e, console.TicketFilter{Text: "809"}, 10), []int64{vpn.ID})
	n, err := s.CountTickets(ctx, console.TicketFilter{Text: "example"})
	e.must(err)
	equal(t, "CountTickets with text", n, 3)
	_, err = s.FindTickets(ctx, console.TicketFilter{Text: "a b c d e f g h i"})
	wantCode(t, "too many words", err, console.CodeInvalid)
}

func testSLAPolicies(t *testing.T, h Harness) {
	e := newEnv(t, h)
	s, ctx := e.s, e.ctx
	nineToFive := []console.MinuteRange{{Start: 9 * 60, End: 17 * 60}}
	std := &console.SLAPolicy{Name: "Standard", Default: true,
		Targets: map[console.Priority]console.SLATarget{
			console.P1: {FirstResponse: 30 * time.Minute, Resolution: 4 * time.Hour},
			console.P4: {FirstResponse: 8 * time.Hour, Resolution: 5 * 24 * time.Hour},
		},
		Calendar: console.BusinessCalendar{TimeZone: "Europe/Berlin",
			Week:     [7][]console.MinuteRange{1: nineToFive, 2: nineToFive, 3: nineToFive, 4: nineToFive, 5: nineToFive},
			Holidays: []string{"2026-12-25"}},
	}
	e.must(s.CreateSLAPolicy(ctx, std))
	got, err := s.FindSLAPolicyByID(ctx, std.ID)
	e.must(err)
	equal(t, "FindSLAPolicyByID", *got, *std)
	def, err := s.FindDefaultSLAPolicy(ctx)
	e.must(err)
	equal(t, "default policy", def.ID, std.ID)

	vip := &console.SLAPolicy{Name: "VIP", Default: true, Targets: map[console.Priority]console.SLATarget{
		console.P1: {FirstResponse: 15 * time.Minute, Resolution: time.Hour}}}
	e.must(s.CreateSLAPolicy(ctx, vip))
	def, err = s.FindDefaultSLAPolicy(ctx)
	e.must(err)
	equal(t, "new default replaces the old", def.ID, vip.ID)
	got, err = s.FindSLAPolicyByID(ctx, std.ID)
	e.must(err)
	equal(t, "old default cleared", got.Default, false)

	wantCode(t, "duplicate name", s.CreateSLAPolicy(ctx, &console.SLAPolicy{Name: "vip", Targets: vip.Targets}), console.CodeConflict)
	wantCode(t, "no targets", s.CreateSLAPolicy(ctx, &console.SLAPolicy{Name: "x"}), console.CodeInvalid)
	wantCode(t, "response after resolution", s.CreateSLAPolicy(ctx, &console.SLAPolicy{Name: "x", Targets: map[console.Priority]console.SLATarget{
		console.P2: {FirstResponse: 2 * time.Hour, Resolution: time.Hour}}}), console.CodeInvalid)
	wantCode(t, "unknown zone", s.CreateSLAPolicy(ctx, &console.SLAPolicy{Name: "x", Targets: vip.Targets,
		Calendar: console.BusinessCalendar{TimeZone: "Mars/Olympus"}}), console.CodeInvalid)
	wantCode(t, "overlapping hours", s.CreateSLAPolicy(ctx, &console.SLAPolicy{Name: "x", Targets: vip.Targets,
		Calendar: console.BusinessCalendar{Week: [7][]console.MinuteRange{1: {{Start: 60, End: 120}, {Start: 100, End: 200}}}}}), console.CodeInvalid)

	e.clock.Advance(time.Hour)
	std.Default = true
	std.Targets[console.P2] = console.SLATarget{FirstResponse: time.Hour, Resolution: 8 * time.Hour}
	e.must(s.UpdateSLAPolicy(ctx, std))
	got, err = s.FindSLAPolicyByID(ctx, std.ID)
	e.must(err)
	equal(t, "updated policy", *got, *std)
	equal(t, "UpdatedAt", got.UpdatedAt, epoch.Add(time.Hour))
	all, err := s.FindSLAPolicies(ctx)
	e.must(err)
	equal(t, "FindSLAPolicies", []any{len(all), all[0].Name, all[0].Default, all[1].Default}, []any{2, "Standard", true, false})
	wantCode(t, "update missing", s.UpdateSLAPolicy(ctx, &console.SLAPolicy{ID: 9999, Name: "x", Targets: vip.Targets}), console.CodeNotFound)

	tk := e.ticket(func(t *console.Ticket) { t.SLAPolicyID = std.ID; t.FirstResponseDue = epoch.Add(time.Hour) })
	e.must(s.DeleteSLAPolicy(ctx, std.ID))
	wantCode(t, "DeleteSLAPolicy twice", s.DeleteSLAPolicy(ctx, std.ID), console.CodeNotFound)
	_, err = s.FindDefaultSLAPolicy(ctx)
	wantCode(t, "no default left", err, console.CodeNotFound)
	gotT, err := s.FindTicketByID(ctx, tk.ID)
	e.must(err)
	equal(t, "ticket keeps its deadline without the policy", []any{gotT.SLAPolicyID, gotT.FirstResponseDue}, []any{int64(0), epoch.Add(time.Hour)})
}

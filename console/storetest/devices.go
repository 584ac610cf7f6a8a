package storetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/reachdesk/reach/console"
)

func testEnrollment(t *testing.T, h Harness) {
	e := newEnv(t, h)
	s, ctx := e.s, e.ctx
	g := e.group()
	admin := e.user(console.RoleAdmin, 0)
	tok := &console.EnrollmentToken{GroupID: g.ID, Name: "Q1 rollout", SecretHash: hash("s1"),
		ExpiresAt: epoch.Add(time.Hour), MaxUses: 2, CreatedBy: admin.ID}
	e.must(s.CreateEnrollmentToken(ctx, tok))
	got, err := s.FindEnrollmentTokenByID(ctx, tok.ID)
	e.must(err)
	equal(t, "FindEnrollmentTokenByID", *got, *tok)
	wantCode(t, "duplicate secret", s.CreateEnrollmentToken(ctx, &console.EnrollmentToken{GroupID: g.ID, Name: "x",
		SecretHash: hash("s1"), ExpiresAt: epoch.Add(time.Hour), MaxUses: 1}), console.CodeConflict)
	wantCode(t, "zero max uses", s.CreateEnrollmentToken(ctx, &console.EnrollmentToken{GroupID: g.ID, Name: "x",
		SecretHash: hash("s2"), ExpiresAt: epoch.Add(time.Hour)}), console.CodeInvalid)
	wantCode(t, "unknown group", s.CreateEnrollmentToken(ctx, &console.EnrollmentToken{GroupID: 9999, Name: "x",
		SecretHash: hash("s2"), ExpiresAt: epoch.Add(time.Hour), MaxUses: 1}), console.CodeInvalid)

	e.clock.Advance(time.Minute)
	d := &console.Device{Name: "LAPTOP-7", PublicKey: key("laptop 7"), Hostname: "laptop-7"}
	e.must(s.Enroll(ctx, hash("s1"), d))
	now := epoch.Add(time.Minute)
	want := console.Device{ID: d.ID, GroupID: g.ID, Name: "LAPTOP-7", PublicKey: key("laptop 7"), EnrollmentTokenID: tok.ID,
		EnrolledAt: now, LastSeenAt: now, Hostname: "laptop-7"}
	equal(t, "enrolled device", *d, want)
	gotD, err := s.FindDeviceByID(ctx, d.ID)
	e.must(err)
	equal(t, "FindDeviceByID", *gotD, want)

	// The same key cannot enroll twice, and the failed attempt takes no use.
	wantCode(t, "duplicate key", s.Enroll(ctx, hash("s1"), &console.Device{Name: "dup", PublicKey: key("laptop 7")}), console.CodeConflict)
	got, err = s.FindEnrollmentTokenByID(ctx, tok.ID)
	e.must(err)
	equal(t, "uses after a conflict", got.Uses, 1)
	wantCode(t, "bad key size", s.Enroll(ctx, hash("s1"), &console.Device{Name: "x", PublicKey: []byte("short")}), console.CodeInvalid)

	e.must(s.Enroll(ctx, hash("s1"), &console.Device{Name: "second", PublicKey: key("second")}))
	err = s.Enroll(ctx, hash("s1"), &console.Device{Name: "third", PublicKey: key("third")})
	wantCode(t, "used-up token", err, console.CodeUnauthorized)
	equal(t, "used-up token message", console.ErrorMessage(err), console.ErrEnrollmentRefused.Message)
	wantCode(t, "unknown token", s.Enroll(ctx, hash("nope"), &console.Device{Name: "x", PublicKey: key("x")}), console.CodeUnauthorized)

	revoked, rs := e.enrollmentToken(g, 10)
	e.must(s.RevokeEnrollmentToken(ctx, revoked.ID))
	wantCode(t, "revoked token", s.Enroll(ctx, rs, &console.Device{Name: "x", PublicKey: key("x")}), console.CodeUnauthorized)
	wantCode(t, "RevokeEnrollmentToken missing", s.RevokeEnrollmentToken(ctx, 9999), console.CodeNotFound)

	expiring, es := e.enrollmentToken(g, 10)
	e.clock.Advance(25 * time.Hour)
	wantCode(t, "expired token", s.Enroll(ctx, es, &console.Device{Name: "x", PublicKey: key("x")}), console.CodeUnauthorized)
	got, err = s.FindEnrollmentTokenByID(ctx, expiring.ID)
	e.must(err)
	equal(t, "uses of expired token", got.Uses, 0)

	list, err := s.FindEnrollmentTokens(ctx, g.ID)
	e.must(err)
	equal(t, "FindEnrollmentTokens newest first", []int64{list[0].ID, list[1].ID, list[2].ID}, []int64{expiring.ID, revoked.ID, tok.ID})
	equal(t, "revoked flag", list[1].Revoked, true)
	all, err := s.FindEnrollmentTokens(ctx, 0)
	e.must(err)
	equal(t, "FindEnrollmentTokens all", len(all), 3)
	_, err = s.FindEnrollmentTokenByID(ctx, 9999)
	wantCode(t, "FindEnrollmentTokenByID missing", err, console.CodeNotFound)
}

// testEnrollmentRace races more enrollments than a token allows.
func testEnrollmentRace(t *testing.T, h Harness) {
	e := newEnv(t, h)
	const maxUses, racers = 5, 24
	tok, secret := e.enrollmentToken(e.group(), maxUses)
	var wg sync.WaitGroup
	errs := make(chan error, racers)
	start := make(chan struct{})
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs <- e.s.Enroll(e.ctx, secret, &console.Device{Name: fmt.Sprintf("racer-%d", i), PublicKey: key(fmt.Sprintf("racer %d", i))})
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	ok, refused := 0, 0
	for err := range errs {
		switch console.ErrorCode(err) {
		case "":
			ok++
		case console.CodeUnauthorized:
			refused++
		default:
			t.Errorf("racing Enroll: %v", err)
		}
	}
	if ok != maxUses || refused != racers-maxUses {
		t.Errorf("racing Enroll: %d succeeded, %d refused; want %d, %d", ok, refused, maxUses, racers-maxUses)
	}
	got, err := e.s.FindEnrollmentTokenByID(e.ctx, tok.ID)
	e.must(err)
	equal(t, "uses after race", got.Uses, maxUses)
	n, err := e.s.CountDevices(e.ctx, console.DeviceFilter{})
	e.must(err)
	equal(t, "devices after race", n, maxUses)
}

func testDevices(t *testing.T, h Harness) {
	e := newEnv(t, h)
	s, ctx := e.s, e.ctx
	g1, g2 := e.group(), e.group()
	d := e.device(g1, "alpha")
	e.device(g2, "beta")

	upd, err := s.UpdateDevice(ctx, d.ID, console.DeviceUpdate{Name: ptr("alpha-renamed"), GroupID: ptr(g2.ID)})
	e.must(err)
	equal(t, "UpdateDevice", []any{upd.Name, upd.GroupID}, []any{"alpha-renamed", g2.ID})
	_, err = s.UpdateDevice(ctx, d.ID, console.DeviceUpdate{GroupID: ptr(int64(9999))})
	wantCode(t, "UpdateDevice to unknown group", err, console.CodeInvalid)
	_, err = s.UpdateDevice(ctx, d.ID, console.DeviceUpdate{Name: ptr("")})
	wantCode(t, "UpdateDevice empty name", err, console.CodeInvalid)
	_, err = s.UpdateDevice(ctx, 9999, console.DeviceUpdate{Name: ptr("x")})
	wantCode(t, "UpdateDevice missing", err, console.CodeNotFound)

	seen := epoch.Add(2 * time.Hour)
	e.must(s.TouchDevice(ctx, d.ID, seen))
	e.must(s.TouchDevice(ctx, d.ID, seen.Add(-time.Hour))) // older: ignored
	got, err := s.FindDeviceByID(ctx, d.ID)
	e.must(err)
	equal(t, "LastSeenAt keeps the latest", got.LastSeenAt, seen)
	wantCode(t, "TouchDevice missing", s.TouchDevice(ctx, 9999, seen), console.CodeNotFound)

	page, err := s.FindDevices(ctx, console.DeviceFilter{GroupIDs: []int64{g1.ID}})
	e.must(err)
	equal(t, "devices of g1 after move", len(page.Devices), 0)
	page, err = s.FindDevices(ctx, console.DeviceFilter{GroupIDs: []int64{}})
	e.must(err)
	equal(t, "empty group list sees nothing", len(page.Devices), 0)
	page, err = s.FindDevices(ctx, console.DeviceFilter{})
	e.must(err)
	equal(t, "nil group list sees all", len(page.Devices), 2)

	e.must(s.DeleteDevice(ctx, d.ID))
	wantCode(t, "DeleteDevice twice", s.DeleteDevice(ctx, d.ID), console.CodeNotFound)
	_, err = s.FindDeviceByID(ctx, d.ID)
	wantCode(t, "FindDeviceByID deleted", err, console.CodeNotFound)
	_, err = s.FindDevices(ctx, console.DeviceFilter{Cursor: "garbage"})
	wantCode(t, "bad cursor", err, console.CodeInvalid)
}

// report builds an inventory report with the given software and disk use.
func report(deviceID int64, os console.OSInfo, sw []console.Software, diskUsedPct uint64, hw string) *console.InventoryReport {
	swJSON, _ := json.Marshal(sw)
	osJSON, _ := json.Marshal(os)
	hwJSON, _ := json.Marshal(map[string]string{"cpu": hw})
	raw, _ := json.Marshal(map[string]any{"os": os, "software": sw, "hardware": hw, "uptime_s": 12345})
	return &console.InventoryReport{
		DeviceID: deviceID, SchemaVersion: 1, CollectedAt: epoch, Raw: raw,
		Sections: map[string]json.RawMessage{"os": osJSON, "software": swJSON, "hardware": hwJSON},
		Hostname: fmt.Sprintf("host-%d", deviceID), OS: os, Software: sw,
		Disks: []console.Disk{{Mount: "/", TotalBytes: 100 << 30, UsedBytes: diskUsedPct << 30}, {Mount: "/boot", TotalBytes: 1 << 30}},
	}
}

func testInventory(t *testing.T, h Harness) {
	e := newEnv(t, h)
	s, ctx := e.s, e.ctx
	d := e.device(e.group(), "ws-1")
	ubuntu22 := console.OSInfo{Name: "Ubuntu", Version: "22.04"}
	sw1 := []console.Software{
		{Name: "Google Chrome", Version: "119.0.6045.199", Publisher: "Google"},
		{Name: "LibreOffice", Version: "7.6.4"},
		{Name: "Zoom", Version: "5.16"},
	}

	e.clock.Advance(time.Hour)
	t1 := e.clock.Now()
	r1 := report(d.ID, ubuntu22, sw1, 50, "i5")
	res, err := s.IngestInventory(ctx, r1)
	e.must(err)
	equal(t, "first ingest", []any{res.First, res.ChangedSections, len(res.Changes)}, []any{true, []string{"hardware", "os", "software"}, 0})
	inv, err := s.FindInventory(ctx, d.ID)
	e.must(err)
	equal(t, "FindInventory", *inv, console.Inventory{DeviceID: d.ID, SchemaVersion: 1, Raw: r1.Raw, CollectedAt: epoch, ReceivedAt: t1,
		SectionHashes: map[string]string{"hardware": console.SectionHash(r1.Sections["hardware"]),
			"os": console.SectionHash(r1.Sections["os"]), "software": console.SectionHash(r1.Sections["software"])}})
	got, err := s.FindDeviceByID(ctx, d.ID)
	e.must(err)
	equal(t, "device summary", []any{got.Hostname, got.OS, got.DiskUsedPercent, got.InventoryAt, got.LastSeenAt},
		[]any{fmt.Sprintf("host-%d", d.ID), ubuntu22, 50.0, t1, t1})
	installed, err := s.FindDeviceSoftware(ctx, d.ID)
	e.must(err)
	equal(t, "FindDeviceSoftware", installed, sw1)

	// The same report again changes nothing.
	e.clock.Advance(time.Hour)
	res, err = s.IngestInventory(ctx, report(d.ID, ubuntu22, sw1, 55, "i5"))
	e.must(err)
	equal(t, "unchanged ingest", []any{res.First, len(res.ChangedSections), len(res.Changes)}, []any{false, 0, 0})

	// A week later: Chrome updated, Zoom removed, VLC added, OS upgraded.
	e.clock.Advance(7 * 24 * time.Hour)
	t3 := e.clock.Now()
	ubuntu24 := console.OSInfo{Name: "Ubuntu", Version: "24.04"}
	sw3 := []console.Software{
		{Name: "Google Chrome", Version: "121.0.6167.85", Publisher: "Google"},
		{Name: "LibreOffice", Version: "7.6.4"},
		{Name: "VLC", Version: "3.0.20"},
	}
	res, err = s.IngestInventory(ctx, report(d.ID, ubuntu24, sw3, 95, "i5"))
	e.must(err)
	equal(t, "changed sections", res.ChangedSections, []string{"os", "software"})
	changes, err := s.FindInventoryChanges(ctx, console.ChangeFilter{DeviceID: d.ID, Since: t1.Add(time.Minute)})
	e.must(err)
	type change struct {
		Section  string
		Op       console.ChangeOp
		Key      string
		Old, New string
	}
	var gotChanges []change
	for _, c := range changes {
		if c.At != t3 || c.DeviceID != d.ID || c.ID == 0 {
			t.Errorf("change %+v: want device %d at %v with an ID", c, d.ID, t3)
		}
		if c.Op == console.ChangeSection {
			c.Old, c.New = "", "" // hashes
		}
		gotChanges = append(gotChanges, change{c.Section, c.Op, c.Key, c.Old, c.New})
	}
	equal(t, "what changed since last week", gotChanges, []change{
		{"os", console.ChangeSection, "", "", ""},
		{"software", console.ChangeSection, "", "", ""},
		{"software", console.ChangeUpdated, "Google Chrome", "119.0.6045.199", "121.0.6167.85"},
		{"software", console.ChangeAdded, "VLC", "", "3.0.20"},
		{"software", console.ChangeRemoved, "Zoom", "5.16", ""},
		{"os", console.ChangeUpdated, "os", "Ubuntu 22.04", "Ubuntu 24.04"},
	})
	equal(t, "returned changes", len(res.Changes), len(changes))
	sw, err := s.FindInventoryChanges(ctx, console.ChangeFilter{DeviceID: d.ID, Section: "software", AfterID: changes[2].ID, Limit: 1})
	e.must(err)
	equal(t, "changes page", len(sw), 1)
	equal(t, "changes page key", sw[0].Key, "VLC")
	none, err := s.FindInventoryChanges(ctx, console.ChangeFilter{DeviceID: d.ID, Since: t3.Add(time.Second)})
	e.must(err)
	equal(t, "no changes after the last report", len(none), 0)

	// Snapshots since t1+1m: the baseline of each section, then later ones.
	snaps, err := s.FindInventorySnapshots(ctx, console.SnapshotFilter{DeviceID: d.ID, Since: t1.Add(time.Minute)})
	e.must(err)
	type snap struct {
		Section string
		At      time.Time
	}
	var gotSnaps []snap
	for _, sn := range snaps {
		gotSnaps = append(gotSnaps, snap{sn.Section, sn.ReceivedAt})
		if sn.Hash != console.SectionHash(sn.Data) {
			t.Errorf("snapshot %s hash does not match its data", sn.Section)
		}
	}
	equal(t, "snapshots since", gotSnaps, []snap{{"hardware", t1}, {"os", t1}, {"os", t3}, {"software", t1}, {"software", t3}})
	osSnaps, err := s.FindInventorySnapshots(ctx, console.SnapshotFilter{DeviceID: d.ID, Section: "os"})
	e.must(err)
	equal(t, "whole os history", len(osSnaps), 2)
	var old console.OSInfo
	e.must(json.Unmarshal(osSnaps[0].Data, &old))
	equal(t, "os snapshot data", old, ubuntu22)

	got, err = s.FindDeviceByID(ctx, d.ID)
	e.must(err)
	equal(t, "disk usage updated", got.DiskUsedPercent, 95.0)
	installed, err = s.FindDeviceSoftware(ctx, d.ID)
	e.must(err)
	equal(t, "software after the update", installed, sw3)

	// A publisher change alone rewrites the entry.
	sw4 := slices.Clone(sw3)
	sw4[1].Publisher = "The Document Foundation"
	_, err = s.IngestInventory(ctx, report(d.ID, ubuntu24, sw4, 95, "i5"))
	e.must(err)
	installed, err = s.FindDeviceSoftware(ctx, d.ID)
	e.must(err)
	equal(t, "software after a publisher change", installed, sw4)

	_, err = s.IngestInventory(ctx, report(9999, ubuntu22, sw1, 1, "x"))
	wantCode(t, "ingest for unknown device", err, console.CodeNotFound)
	bad := report(d.ID, ubuntu22, sw1, 1, "x")
	bad.Raw = json.RawMessage(`{"not json`)
	_, err = s.IngestInventory(ctx, bad)
	wantCode(t, "ingest invalid JSON", err, console.CodeInvalid)
	bad = report(d.ID, ubuntu22, sw1, 1, "x")
	bad.Sections["Bad Name"] = json.RawMessage(`{}`)
	_, err = s.IngestInventory(ctx, bad)
	wantCode(t, "ingest bad section name", err, console.CodeInvalid)
	_, err = s.FindInventory(ctx, e.device(e.group(), "fresh").ID)
	wantCode(t, "FindInventory before any report", err, console.CodeNotFound)

	// Deleting the device takes its inventory with it.
	e.must(s.DeleteDevice(ctx, d.ID))
	_, err = s.FindInventory(ctx, d.ID)
	wantCode(t, "FindInventory of deleted device", err, console.CodeNotFound)
	left, err := s.FindInventoryChanges(ctx, console.ChangeFilter{DeviceID: d.ID})
	e.must(err)
	equal(t, "changes of deleted device", len(left), 0)
}

func testFleetSearch(t *testing.T, h Harness) {
	e := newEnv(t, h)
	s, ctx := e.s, e.ctx
	g1, g2 := e.group(), e.group()
	win := console.OSInfo{Name: "Windows 11 Pro", Version: "10.0.22631"}
	mac := console.OSInfo{Name: "macOS", Version: "14.2"}
	type fixture struct {
		name   string
		group  *console.DeviceGroup
		os     console.OSInfo
		chrome string // "none": not installed; "": installed, version unknown
		disk   uint64
		seen   time.Duration // after epoch
	}
	fixtures := []fixture{
		{"acct-01", g1, win, "119.0.6045.199", 40, time.Hour},
		{"acct-02", g1, win, "120.0.6099.71", 92, 2 * time.Hour},
		{"acct-03", g1, win, "120", 91, 3 * time.Hour},
		{"dev-01", g2, mac, "99.0.1", 97, 4 * time.Hour},
		{"dev-02", g2, mac, "121.0.1", 10, 5 * time.Hour},
		{"dev-03", g2, mac, "none", 90, 6 * time.Hour},
		{"kiosk", g2, win, "", 50, 7 * time.Hour},
	}
	byName := map[string]*console.Device{}
	for _, f := range fixtures {
		d := e.device(f.group, f.name)
		byName[f.name] = d
		sw := []console.Software{{Name: "7-Zip", Version: "23.01"}}
		if f.chrome != "none" {
			sw = append(sw, console.Software{Name: "Google Chrome", Version: f.chrome})
		}
		r := report(d.ID, f.os, sw, f.disk, "cpu")
		r.ReceivedAt = epoch.Add(f.seen)
		_, err := s.IngestInventory(ctx, r)
		e.must(err)
	}
	names := func(f console.DeviceFilter) []string {
		t.Helper()
		page, err := s.FindDevices(ctx, f)
		if err != nil {
			t.Fatalf("FindDevices(%+v): %v", f, err)
		}
		n, err := s.CountDevices(ctx, f)
		if err != nil {
			t.Fatalf("CountDevices(%+v): %v", f, err)
		}
		out := []string{}
		for _, d := range page.Devices {
			out = append(out, d.Name)
		}
		if n != len(out) {
			t.Errorf("CountDevices(%+v) = %d, FindDevices found %d", f, n, len(out))
		}
		return out
	}
	sq := func(q string) *console.SoftwareQuery {
		t.Helper()
		sq, err := console.ParseSoftwareQuery(q)
		if err != nil {
			t.Fatalf("ParseSoftwareQuery(%q): %v", q, err)
		}
		return &sq
	}
	for _, tc := range []struct {
		name string
		f    console.DeviceFilter
		want []string
	}{
		{"Chrome < 120", console.DeviceFilter{Software: sq("Chrome < 120")}, []string{"acct-01", "dev-01"}},
		{"chrome <= 120", console.DeviceFilter{Software: sq("chrome <= 120")}, []string{"acct-01", "acct-03", "dev-01"}},
		{"Chrome = 120.0.0", console.DeviceFilter{Software: sq("Chrome = 120.0.0")}, []string{"acct-03"}},
		// An unknown version matches no comparison.
		{"Chrome >= 120", console.DeviceFilter{Software: sq("Chrome >= 120")}, []string{"acct-02", "acct-03", "dev-02"}},
		{"Chrome > 120.0.6099.70", console.DeviceFilter{Software: sq("Chrome > 120.0.6099.70")}, []string{"acct-02", "dev-02"}},
		{"Chrome installed", console.DeviceFilter{Software: sq("google chrome")}, []string{"acct-01", "acct-02", "acct-03", "dev-01", "dev-02", "kiosk"}},
		{"7-zip in g2", console.DeviceFilter{Software: sq("7-zip"), GroupIDs: []int64{g2.ID}}, []string{"dev-01", "dev-02", "dev-03", "kiosk"}},
		{"wildcards are literal", console.DeviceFilter{Software: sq("7_zip")}, []string{}},
		{"disks > 90% full", console.DeviceFilter{DiskUsedAbove: 90}, []string{"acct-02", "acct-03", "dev-01"}},
		{"Windows", console.DeviceFilter{OS: "windows"}, []string{"acct-01", "acct-02", "acct-03", "kiosk"}},
		{"Windows, Chrome < 120, disk > 30%", console.DeviceFilter{OS: "Windows", Software: sq("Chrome<120"), DiskUsedAbove: 30}, []string{"acct-01"}},
		{"seen before 3h", console.DeviceFilter{SeenBefore: epoch.Add(3 * time.Hour)}, []string{"acct-01", "acct-02"}},
		{"seen after 5h", console.DeviceFilter{SeenAfter: epoch.Add(5 * time.Hour)}, []string{"dev-03", "kiosk"}},
		{"name", console.DeviceFilter{Name: "ACCT"}, []string{"acct-01", "acct-02", "acct-03"}},
		{"hostname", console.DeviceFilter{Name: fmt.Sprintf("host-%d", byName["kiosk"].ID)}, []string{"kiosk"}},
	} {
		equal(t, tc.name, names(tc.f), tc.want)
	}

	// Pages of two walk the whole fleet in name order.
	var walked []string
	f := console.DeviceFilter{Limit: 2}
	for i := 0; ; i++ {
		page, err := s.FindDevices(ctx, f)
		e.must(err)
		for _, d := range page.Devices {
			walked = append(walked, d.Name)
		}
		if page.Next == "" || i > 10 {
			break
		}
		f.Cursor = page.Next
	}
	equal(t, "paged fleet", walked, []string{"acct-01", "acct-02", "acct-03", "dev-01", "dev-02", "dev-03", "kiosk"})

	_, err := s.FindDevices(ctx, console.DeviceFilter{Software: &console.SoftwareQuery{Name: "x", Op: "~", Version: "1"}})
	wantCode(t, "unknown version op", err, console.CodeInvalid)
	_, err = s.FindDevices(ctx, console.DeviceFilter{DiskUsedAbove: 101})
	wantCode(t, "disk over 100%", err, console.CodeInvalid)

	// Re-ingesting replaces the software index.
	r := report(byName["acct-01"].ID, win, []console.Software{{Name: "Google Chrome", Version: "122.0"}}, 40, "cpu")
	_, err = s.IngestInventory(ctx, r)
	e.must(err)
	equal(t, "Chrome < 120 after update", names(console.DeviceFilter{Software: sq("Chrome < 120")}), []string{"dev-01"})
}

func testDiagnostics(t *testing.T, h Harness) {
	e := newEnv(t, h)
	s, ctx := e.s, e.ctx
	d := e.device(e.group(), "pc")
	tk := e.ticket(nil)
	tech := e.tech()
	r1 := &console.DiagnosticResult{DeviceID: d.ID, Check: "disk_smart", Status: console.DiagnosticOK,
		Output: json.RawMessage(`{"reallocated":0}`), StartedAt: epoch, FinishedAt: epoch.Add(2 * time.Second)}
	e.must(s.CreateDiagnosticResult(ctx, r1))
	r2 := &console.DiagnosticResult{DeviceID: d.ID, TicketID: tk.ID, Check: "dns", Status: console.DiagnosticFail,
		RequestedBy: tech.ID, StartedAt: epoch, FinishedAt: epoch.Add(time.Second)}
	e.must(s.CreateDiagnosticResult(ctx, r2))
	got, err := s.FindDiagnosticResultByID(ctx, r1.ID)
	e.must(err)
	equal(t, "FindDiagnosticResultByID", *got, *r1)
	byDevice, err := s.FindDiagnosticResults(ctx, console.DiagnosticFilter{DeviceID: d.ID})
	e.must(err)
	equal(t, "by device, newest first", deref(byDevice), []console.DiagnosticResult{*r2, *r1})
	byTicket, err := s.FindDiagnosticResults(ctx, console.DiagnosticFilter{TicketID: tk.ID})
	e.must(err)
	equal(t, "by ticket", deref(byTicket), []console.DiagnosticResult{*r2})
	_, err = s.FindDiagnosticResults(ctx, console.DiagnosticFilter{})
	wantCode(t, "unfiltered", err, console.CodeInvalid)
	_, err = s.FindDiagnosticResultByID(ctx, 9999)
	wantCode(t, "missing", err, console.CodeNotFound)
	wantCode(t, "unknown device", s.CreateDiagnosticResult(ctx, &console.DiagnosticResult{DeviceID: 9999, Check: "x",
		Status: console.DiagnosticOK}), console.CodeNotFound)
	wantCode(t, "bad status", s.CreateDiagnosticResult(ctx, &console.DiagnosticResult{DeviceID: d.ID, Check: "x",
		Status: "great"}), console.CodeInvalid)
	wantCode(t, "output not JSON", s.CreateDiagnosticResult(ctx, &console.DiagnosticResult{DeviceID: d.ID, Check: "x",
		Status: console.DiagnosticOK, Output: []byte("<script>")}), console.CodeInvalid)
}

package api

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reachdesk/reach/console"
	"github.com/reachdesk/reach/console/auth"
)

// device enrolls a device in group g.
func (e *env) device(g *console.DeviceGroup, name string) *console.Device {
	e.t.Helper()
	secret := auth.HashSecret(fmt.Sprintf("enroll %d", e.next()))
	e.must(e.store.CreateEnrollmentToken(e.ctx, &console.EnrollmentToken{GroupID: g.ID, Name: "t", SecretHash: secret,
		ExpiresAt: e.clock.Now().Add(time.Hour), MaxUses: 1}))
	seed := sha256.Sum256([]byte(fmt.Sprintf("key %d", e.next())))
	d := &console.Device{Name: name, PublicKey: ed25519.NewKeyFromSeed(seed[:]).Public().(ed25519.PublicKey)}
	e.must(e.store.Enroll(e.ctx, secret, d))
	return d
}

// group creates a device group granting perms to technicians.
func (e *env) group(perms console.Permissions) *console.DeviceGroup {
	e.t.Helper()
	g := &console.DeviceGroup{Name: fmt.Sprintf("Group %d", e.next())}
	e.must(e.store.CreateDeviceGroup(e.ctx, g))
	if perms != 0 {
		e.must(e.store.SetGrant(e.ctx, &console.Grant{GroupID: g.ID, Role: console.RoleTechnician, Permissions: perms}))
	}
	return g
}

// recordingFiles lists the files in the recordings blob directory.
func (e *env) recordingFiles() []string {
	e.t.Helper()
	ents, err := os.ReadDir(filepath.Join(e.srv.opts.BlobDir, "recordings"))
	e.must(err)
	var names []string
	for _, x := range ents {
		names = append(names, x.Name())
	}
	return names
}

func TestSessionRecordings(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxRecordingBytes = 4096 })
	tech := e.user(console.RoleTechnician, console.L2)
	other := e.session(e.user(console.RoleTechnician, console.L3))
	admin := e.session(e.user(console.RoleAdmin, 0))
	viewer := e.session(e.user(console.RoleViewer, 0))
	c := e.session(tech)
	g := e.group(console.PermAll)
	e.must(e.store.SetGrant(e.ctx, &console.Grant{GroupID: g.ID, Role: console.RoleViewer, Permissions: console.PermView}))
	d := e.device(g, "reception")
	tk := &console.Ticket{Title: "Printer", Channel: console.ChannelPhone, Priority: console.P3, Status: console.StatusOpen, Level: console.L1}
	e.must(e.store.CreateTicket(e.ctx, tk))
	newSession := func() string {
		s := &console.Session{Kind: console.SessionUnattended, DeviceID: d.ID, TicketID: tk.ID, TechnicianID: tech.ID,
			Consent: console.ConsentNotRequired, Permissions: console.PermView}
		e.must(e.store.CreateSession(e.ctx, s))
		return "/api/v1/sessions/" + itoa(s.ID)
	}
	video := append(append([]byte{}, webm...), bytes.Repeat([]byte("frame"), 200)...)
	mp4 := append([]byte{0, 0, 0, 0x18, 'f', 't', 'y', 'p', 'i', 's', 'o', 'm'}, bytes.Repeat([]byte{1}, 100)...)

	// Refusals store nothing.
	sp := newSession()
	for _, tc := range []struct {
		name   string
		who    *client
		body   any
		status int
	}{
		{"not a video type", c, upload{"text/html", video}, 415},
		{"no content type", c, upload{"", video}, 415},
		{"webm type, other bytes", c, upload{"video/webm", []byte("<html><script>alert(1)</script></html>")}, 400},
		{"mp4 type, webm bytes", c, upload{"video/mp4", video}, 400},
		{"empty", c, upload{"video/webm", nil}, 400},
		{"too large", c, upload{"video/webm", append(append([]byte{}, webm...), make([]byte, 5000)...)}, 413},
		{"another technician", other, upload{"video/webm", video}, 403},
		{"a viewer", viewer, upload{"video/webm", video}, 403},
	} {
		tc.who.do("PUT", sp+"/recording", tc.body).want(t, tc.name, tc.status)
	}
	if files := e.recordingFiles(); len(files) != 0 {
		t.Fatalf("refused uploads left files: %v", files)
	}
	c.do("GET", sp+"/recording", nil).want(t, "no recording yet", 404)

	// Upload during the session; the log written at the end links it.
	r := c.do("PUT", sp+"/recording", upload{"video/webm; codecs=vp8", video}).want(t, "upload", 201).json()
	if r["session"].(map[string]any)["recording"] != true || r["recording"].(map[string]any)["size"] != float64(len(video)) {
		t.Errorf("upload answer %v", r)
	}
	c.do("PUT", sp+"/recording", upload{"video/webm", video}).want(t, "second upload", 409)
	c.do("POST", sp+"/end", nil).want(t, "end", 200)
	cs := c.do("GET", "/api/v1/tickets/"+itoa(tk.ID)+"/comments", nil).json()["items"].([]any)
	if body := cs[len(cs)-1].(map[string]any)["body"].(string); !strings.Contains(body, "Recording: "+sp+"/recording") {
		t.Errorf("session log lacks the recording link:\n%s", body)
	}

	// Download: an attachment, not sniffed, with byte ranges; viewers too.
	for _, who := range []*client{c, viewer} {
		g := who.do("GET", sp+"/recording", nil).want(t, "download", 200)
		if !bytes.Equal(g.body, video) || g.header.Get("Content-Type") != "video/webm" ||
			!strings.HasPrefix(g.header.Get("Content-Disposition"), "attachment;") ||
			g.header.Get("X-Content-Type-Options") != "nosniff" || g.header.Get("Accept-Ranges") != "bytes" {
			t.Errorf("download: %d bytes, headers %v", len(g.body), g.header)
		}
	}
	part := c.do("GET", sp+"/recording", nil, "Range", "bytes=4-9").want(t, "range", 206)
	if !bytes.Equal(part.body, video[4:10]) || part.header.Get("Content-Range") != fmt.Sprintf("bytes 4-9/%d", len(video)) {
		t.Errorf("range: %q %v", part.body, part.header)
	}
	tl := c.do("GET", sp, nil).json()["timeline"].([]any)
	found := false
	for _, ev := range tl {
		m := ev.(map[string]any)
		found = found || m["source"] == "console" && m["type"] == "recording_stored"
	}
	if !found {
		t.Errorf("timeline lacks recording_stored: %v", tl)
	}

	// Upload after the session ended (and its log was attached): the
	// ticket gets its own note and event. MP4 is accepted too.
	sp2 := newSession()
	c.do("POST", sp2+"/end", nil).want(t, "end", 200)
	admin.do("PUT", sp2+"/recording", upload{"video/mp4", mp4}).want(t, "admin uploads mp4", 201)
	cs = c.do("GET", "/api/v1/tickets/"+itoa(tk.ID)+"/comments", nil).json()["items"].([]any)
	if body := cs[len(cs)-1].(map[string]any)["body"].(string); !strings.Contains(body, sp2+"/recording") {
		t.Errorf("late recording note: %s", body)
	}
	hist := c.do("GET", "/api/v1/tickets/"+itoa(tk.ID)+"/history", nil).json()["items"].([]any)
	if last := hist[len(hist)-1].(map[string]any); last["kind"] != string(EventRecordingAttached) {
		t.Errorf("last ticket event %v", last)
	}
	if g := c.do("GET", sp2+"/recording", nil).want(t, "mp4", 200); g.header.Get("Content-Type") != "video/mp4" ||
		!strings.Contains(g.header.Get("Content-Disposition"), ".mp4") {
		t.Errorf("mp4 headers %v", g.header)
	}

	// Admins delete recordings; the file goes.
	if n := len(e.recordingFiles()); n != 2 {
		t.Fatalf("%d recording files, want 2", n)
	}
	c.do("DELETE", sp+"/recording", nil).want(t, "technician deletes", 403)
	admin.do("DELETE", sp+"/recording", nil).want(t, "admin deletes", 204)
	c.do("GET", sp+"/recording", nil).want(t, "deleted", 404)
	admin.do("DELETE", sp+"/recording", nil).want(t, "delete again", 404)
	if n := len(e.recordingFiles()); n != 1 {
		t.Errorf("%d recording files after delete, want 1", n)
	}
}

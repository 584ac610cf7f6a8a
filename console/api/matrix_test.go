package api

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/reachdesk/reach/console"
	"github.com/reachdesk/reach/console/auth"
)

// who is a kind of caller in the role×endpoint table.
type who int

const (
	asAdmin who = iota
	asL1
	asL2
	asL3
	asViewer
	asAnon
	asToken // an admin's API token
	nWho
)

var whoNames = [nWho]string{"admin", "L1", "L2", "L3", "viewer", "anonymous", "API token"}

// expect is the status each caller gets.
type expect [nWho]int

// Expectation builders: code for those allowed, 403 for signed-in callers
// who are not, 401 for anonymous ones.
func public(code int) expect { return expect{code, code, code, code, code, code, code} }
func signedIn(code int) expect {
	return expect{code, code, code, code, code, 401, code}
}
func interactive(code int) expect {
	return expect{code, code, code, code, code, 401, 403}
}
func techs(code int) expect { return expect{code, code, code, code, 403, 401, code} }

// techsAtL2 is for ticket writes on the fixture's L2 ticket: L1 may not.
func techsAtL2(code int) expect { return expect{code, 403, code, code, 403, 401, code} }
func admins(code int) expect    { return expect{code, 403, 403, 403, 403, 401, code} }

// matrix is the fixture the table runs on.
type matrix struct {
	*env
	users  [nWho]*console.User
	tokens *client
	group  *console.DeviceGroup
	device *console.Device
	team   *console.Team
}

// req is what a row sends.
type req struct {
	path string
	body any
}

type row struct {
	method, pattern string
	want            expect
	// prep creates what the request needs, fresh for each caller u (nil
	// for anonymous), and returns the path and body.
	prep func(m *matrix, u *console.User) req
}

func (m *matrix) caller(w who) *client {
	switch w {
	case asAnon:
		return m.anon()
	case asToken:
		return m.tokens
	}
	return m.session(m.users[w]) // a fresh session: logout and password rows end only their own
}

func (m *matrix) ticket(lvl console.Level) *console.Ticket {
	t := &console.Ticket{Title: fmt.Sprintf("Ticket %d", m.next()), Channel: console.ChannelPhone, Priority: console.P3,
		Status: console.StatusOpen, Level: lvl}
	m.must(m.store.CreateTicket(m.ctx, t))
	return t
}

func (m *matrix) enroll(name string) *console.Device {
	secret := auth.HashSecret(fmt.Sprintf("enroll %d", m.next()))
	tok := &console.EnrollmentToken{GroupID: m.group.ID, Name: "t", SecretHash: secret, ExpiresAt: m.clock.Now().Add(time.Hour), MaxUses: 1}
	m.must(m.store.CreateEnrollmentToken(m.ctx, tok))
	seed := sha256.Sum256([]byte(fmt.Sprintf("key %d", m.next())))
	d := &console.Device{Name: name, PublicKey: ed25519.NewKeyFromSeed(seed[:]).Public().(ed25519.PublicKey)}
	m.must(m.store.Enroll(m.ctx, secret, d))
	return d
}

// owner is the technician a session created for u belongs to.
func (m *matrix) owner(u *console.User) int64 {
	if u == nil || u.Role == console.RoleViewer {
		return m.users[asAdmin].ID
	}
	return u.ID
}

func (m *matrix) remoteSession(u *console.User) *console.Session {
	s := &console.Session{Kind: console.SessionUnattended, DeviceID: m.device.ID, TechnicianID: m.owner(u),
		Consent: console.ConsentPending, Permissions: console.PermView}
	m.must(m.store.CreateSession(m.ctx, s))
	return s
}

func (m *matrix) attachment(t *console.Ticket) *console.Attachment {
	key, sum, size, err := m.srv.writeBlob(strings.NewReader("log line\n"))
	m.must(err)
	a := &console.Attachment{TicketID: t.ID, Name: "log.txt", ContentType: "text/plain", Size: size, SHA256: sum, BlobKey: key}
	m.must(m.store.CreateAttachment(m.ctx, a))
	return a
}

func (m *matrix) slaPolicy() *console.SLAPolicy {
	p := &console.SLAPolicy{Name: fmt.Sprintf("Policy %d", m.next()),
		Targets: map[console.Priority]console.SLATarget{console.P3: {FirstResponse: time.Hour, Resolution: 8 * time.Hour}}}
	m.must(m.store.CreateSLAPolicy(m.ctx, p))
	return p
}

func (m *matrix) rule() *console.EscalationRule {
	r := &console.EscalationRule{Name: fmt.Sprintf("Rule %d", m.next()), Enabled: true, Deadline: console.DeadlineResolution,
		Trigger: console.TriggerBreached, SetLevel: console.L2}
	m.must(m.store.CreateEscalationRule(m.ctx, r))
	return r
}

// webm is the start of a WebM file: an EBML header and a little more.
var webm = append([]byte{0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81, 0x01}, bytes.Repeat([]byte{0x42}, 64)...)

func (m *matrix) diagnostic() *console.DiagnosticResult {
	r := &console.DiagnosticResult{DeviceID: m.device.ID, Check: "disk_space", Status: console.DiagnosticWarn,
		Output: []byte(`{"check":"disk_space","status":"warn","summary":"/ is 91% full"}`)}
	m.must(m.store.CreateDiagnosticResult(m.ctx, r))
	return r
}

// recordedSession is a session of u's with a recording.
func (m *matrix) recordedSession(u *console.User) *console.Session {
	s := m.remoteSession(u)
	key, _, _, err := m.srv.saveBlob("recordings", ".webm", bytes.NewReader(webm))
	m.must(err)
	_, err = m.store.UpdateSession(m.ctx, s.ID, console.SessionUpdate{RecordingKey: &key})
	m.must(err)
	return s
}

func (m *matrix) webhook() *console.Webhook {
	w := &console.Webhook{Name: fmt.Sprintf("Hook %d", m.next()), URL: "https://hooks.example.com/in",
		Secret: []byte("0123456789abcdef0123456789abcdef"), Enabled: true}
	m.must(m.store.CreateWebhook(m.ctx, w))
	return w
}

// failedDelivery is a webhook with a delivery that failed.
func (m *matrix) failedDelivery() (*console.Webhook, *console.WebhookDelivery) {
	w := m.webhook()
	d, err := m.store.EnqueueWebhookDelivery(m.ctx, w.ID, &console.WebhookEvent{Type: "webhook.ping", At: m.clock.Now(),
		Payload: []byte(`{}`)})
	m.must(err)
	claims, err := m.store.ClaimWebhookDeliveries(m.ctx, m.clock.Now(), time.Minute, console.MaxPageSize)
	m.must(err)
	for _, c := range claims {
		if c.ID == d.ID {
			m.must(m.store.FinishWebhookDelivery(m.ctx, &console.DeliveryOutcome{ID: d.ID, Attempt: c.Attempts,
				Status: console.DeliveryFailed, StatusCode: 500, At: m.clock.Now()}))
		}
	}
	return w, d
}

func path(format string, args ...any) func(*matrix, *console.User) req {
	return func(*matrix, *console.User) req { return req{path: fmt.Sprintf(format, args...)} }
}

func id(n int64) string { return itoa(n) }

// rows lists every route. TestRoleMatrix fails for a route without a row.
func rows(m *matrix) []row {
	rulePayload := func() map[string]any {
		return map[string]any{"name": fmt.Sprintf("Rule %d", m.next()), "enabled": true, "deadline": "resolution",
			"trigger": "remaining", "minutes": 30, "set_level": "L2"}
	}
	policyPayload := func() map[string]any {
		return map[string]any{"name": fmt.Sprintf("Policy %d", m.next()),
			"targets": map[string]any{"P1": map[string]int{"first_response_seconds": 900, "resolution_seconds": 14400}}}
	}
	return []row{
		{"GET", "/healthz", public(200), path("/healthz")},
		{"GET", "/metrics", admins(200), path("/metrics")},
		{"GET", "/.well-known/reach/keys", public(200), path("/.well-known/reach/keys")},
		{"GET", "/api/v1/openapi.json", public(200), path("/api/v1/openapi.json")},

		{"POST", "/api/v1/auth/login", public(200), func(m *matrix, _ *console.User) req {
			u := m.user(console.RoleViewer, 0)
			return req{"/api/v1/auth/login", map[string]string{"email": u.Email, "password": password}}
		}},
		{"POST", "/api/v1/auth/login/totp", expect{401, 401, 401, 401, 401, 401, 401}, func(*matrix, *console.User) req {
			return req{"/api/v1/auth/login/totp", map[string]string{"code": "123456"}}
		}},
		{"POST", "/api/v1/auth/logout", interactive(204), path("/api/v1/auth/logout")},
		{"GET", "/api/v1/auth/me", signedIn(200), path("/api/v1/auth/me")},
		{"POST", "/api/v1/auth/password", interactive(204), func(*matrix, *console.User) req {
			return req{"/api/v1/auth/password", map[string]string{"current_password": password, "new_password": password}}
		}},
		{"POST", "/api/v1/auth/totp/enroll", interactive(200), path("/api/v1/auth/totp/enroll")},
		{"POST", "/api/v1/auth/totp/confirm", interactive(400), func(m *matrix, u *console.User) req {
			state := "x"
			if u != nil {
				en, err := m.srv.totp.Enroll(u.ID, u.Email)
				m.must(err)
				state = en.State
			}
			return req{"/api/v1/auth/totp/confirm", map[string]string{"state": state, "code": "abcdef"}}
		}},
		{"POST", "/api/v1/auth/totp/disable", interactive(409), func(*matrix, *console.User) req {
			return req{"/api/v1/auth/totp/disable", map[string]string{"password": password, "code": "123456"}}
		}},
		{"GET", "/api/v1/auth/tokens", signedIn(200), path("/api/v1/auth/tokens")},
		{"POST", "/api/v1/auth/tokens", interactive(201), func(*matrix, *console.User) req {
			return req{"/api/v1/auth/tokens", map[string]any{"name": "script"}}
		}},
		{"DELETE", "/api/v1/auth/tokens/{id}", signedIn(204), func(m *matrix, u *console.User) req {
			uid := m.users[asAdmin].ID
			if u != nil {
				uid = u.ID
			}
			_, hash, _ := auth.NewAPIToken()
			t := &console.APIToken{UserID: uid, Name: "doomed", Hash: hash}
			m.must(m.store.CreateAPIToken(m.ctx, t))
			return req{path: "/api/v1/auth/tokens/" + id(t.ID)}
		}},

		{"GET", "/api/v1/users", signedIn(200), path("/api/v1/users")},
		{"POST", "/api/v1/users", admins(201), func(m *matrix, _ *console.User) req {
			return req{"/api/v1/users", map[string]any{"email": fmt.Sprintf("new%d@example.com", m.next()), "name": "New",
				"role": "technician", "level": "L1"}}
		}},
		{"GET", "/api/v1/users/{id}", signedIn(200), func(m *matrix, _ *console.User) req {
			return req{path: "/api/v1/users/" + id(m.users[asL1].ID)}
		}},
		{"PATCH", "/api/v1/users/{id}", admins(200), func(m *matrix, _ *console.User) req {
			return req{"/api/v1/users/" + id(m.user(console.RoleViewer, 0).ID), map[string]any{"name": "Renamed"}}
		}},
		{"DELETE", "/api/v1/users/{id}", admins(204), func(m *matrix, _ *console.User) req {
			return req{path: "/api/v1/users/" + id(m.user(console.RoleViewer, 0).ID)}
		}},
		{"DELETE", "/api/v1/users/{id}/totp", admins(204), func(m *matrix, _ *console.User) req {
			return req{path: "/api/v1/users/" + id(m.user(console.RoleViewer, 0).ID) + "/totp"}
		}},
		{"GET", "/api/v1/teams", signedIn(200), path("/api/v1/teams")},
		{"POST", "/api/v1/teams", admins(201), func(m *matrix, _ *console.User) req {
			return req{"/api/v1/teams", map[string]string{"name": fmt.Sprintf("Team %d", m.next())}}
		}},
		{"PATCH", "/api/v1/teams/{id}", admins(200), func(m *matrix, _ *console.User) req {
			return req{"/api/v1/teams/" + id(m.team.ID), map[string]string{"name": fmt.Sprintf("Team %d", m.next())}}
		}},
		{"DELETE", "/api/v1/teams/{id}", admins(204), func(m *matrix, _ *console.User) req {
			t := &console.Team{Name: fmt.Sprintf("Team %d", m.next())}
			m.must(m.store.CreateTeam(m.ctx, t))
			return req{path: "/api/v1/teams/" + id(t.ID)}
		}},
		{"GET", "/api/v1/teams/{id}/members", signedIn(200), func(m *matrix, _ *console.User) req {
			return req{path: "/api/v1/teams/" + id(m.team.ID) + "/members"}
		}},
		{"PUT", "/api/v1/teams/{id}/members/{user_id}", admins(204), func(m *matrix, _ *console.User) req {
			return req{path: "/api/v1/teams/" + id(m.team.ID) + "/members/" + id(m.users[asL2].ID)}
		}},
		{"DELETE", "/api/v1/teams/{id}/members/{user_id}", admins(204), func(m *matrix, _ *console.User) req {
			u := m.user(console.RoleTechnician, console.L1)
			m.must(m.store.AddTeamMember(m.ctx, m.team.ID, u.ID))
			return req{path: "/api/v1/teams/" + id(m.team.ID) + "/members/" + id(u.ID)}
		}},

		{"GET", "/api/v1/device-groups", signedIn(200), path("/api/v1/device-groups")},
		{"POST", "/api/v1/device-groups", admins(201), func(m *matrix, _ *console.User) req {
			return req{"/api/v1/device-groups", map[string]string{"name": fmt.Sprintf("Group %d", m.next())}}
		}},
		{"PATCH", "/api/v1/device-groups/{id}", admins(200), func(m *matrix, _ *console.User) req {
			return req{"/api/v1/device-groups/" + id(m.group.ID), map[string]string{"description": "Laptops"}}
		}},
		{"DELETE", "/api/v1/device-groups/{id}", admins(204), func(m *matrix, _ *console.User) req {
			g := &console.DeviceGroup{Name: fmt.Sprintf("Group %d", m.next())}
			m.must(m.store.CreateDeviceGroup(m.ctx, g))
			return req{path: "/api/v1/device-groups/" + id(g.ID)}
		}},
		{"GET", "/api/v1/device-groups/{id}/grants", admins(200), func(m *matrix, _ *console.User) req {
			return req{path: "/api/v1/device-groups/" + id(m.group.ID) + "/grants"}
		}},
		{"PUT", "/api/v1/device-groups/{id}/grants", admins(200), func(m *matrix, _ *console.User) req {
			u := m.user(console.RoleTechnician, console.L1)
			return req{"/api/v1/device-groups/" + id(m.group.ID) + "/grants", map[string]any{"user_id": u.ID, "permissions": []string{"view"}}}
		}},
		{"DELETE", "/api/v1/device-groups/{id}/grants/users/{user_id}", admins(204), func(m *matrix, _ *console.User) req {
			u := m.user(console.RoleTechnician, console.L1)
			m.must(m.store.SetGrant(m.ctx, &console.Grant{GroupID: m.group.ID, UserID: u.ID, Permissions: console.PermView}))
			return req{path: "/api/v1/device-groups/" + id(m.group.ID) + "/grants/users/" + id(u.ID)}
		}},
		{"DELETE", "/api/v1/device-groups/{id}/grants/roles/{role}", admins(204), func(m *matrix, _ *console.User) req {
			g := &console.DeviceGroup{Name: fmt.Sprintf("Group %d", m.next())}
			m.must(m.store.CreateDeviceGroup(m.ctx, g))
			m.must(m.store.SetGrant(m.ctx, &console.Grant{GroupID: g.ID, Role: console.RoleViewer, Permissions: console.PermView}))
			return req{path: "/api/v1/device-groups/" + id(g.ID) + "/grants/roles/viewer"}
		}},
		{"GET", "/api/v1/enrollment-tokens", admins(200), path("/api/v1/enrollment-tokens")},
		{"POST", "/api/v1/enrollment-tokens", admins(201), func(m *matrix, _ *console.User) req {
			return req{"/api/v1/enrollment-tokens", map[string]any{"group_id": m.group.ID, "name": "Laptops", "max_uses": 10}}
		}},
		{"POST", "/api/v1/enrollment-tokens/{id}/revoke", admins(200), func(m *matrix, _ *console.User) req {
			t := &console.EnrollmentToken{GroupID: m.group.ID, Name: "t", SecretHash: auth.HashSecret(fmt.Sprint(m.next())),
				ExpiresAt: m.clock.Now().Add(time.Hour), MaxUses: 1}
			m.must(m.store.CreateEnrollmentToken(m.ctx, t))
			return req{path: "/api/v1/enrollment-tokens/" + id(t.ID) + "/revoke"}
		}},

		{"GET", "/api/v1/tickets", signedIn(200), path("/api/v1/tickets")},
		{"POST", "/api/v1/tickets", techs(201), func(*matrix, *console.User) req {
			return req{"/api/v1/tickets", map[string]any{"title": "VPN down", "priority": "P2"}}
		}},
		{"GET", "/api/v1/tickets/{id}", signedIn(200), func(m *matrix, _ *console.User) req {
			return req{path: "/api/v1/tickets/" + id(m.ticket(console.L2).ID)}
		}},
		{"PATCH", "/api/v1/tickets/{id}", techsAtL2(200), func(m *matrix, _ *console.User) req {
			return req{"/api/v1/tickets/" + id(m.ticket(console.L2).ID), map[string]any{"status": "pending"}}
		}},
		{"DELETE", "/api/v1/tickets/{id}", admins(204), func(m *matrix, _ *console.User) req {
			return req{path: "/api/v1/tickets/" + id(m.ticket(console.L1).ID)}
		}},
		{"POST", "/api/v1/tickets/{id}/escalate", techsAtL2(200), func(m *matrix, _ *console.User) req {
			return req{"/api/v1/tickets/" + id(m.ticket(console.L2).ID) + "/escalate", map[string]any{"reason": "needs a specialist"}}
		}},
		{"GET", "/api/v1/tickets/{id}/history", signedIn(200), func(m *matrix, _ *console.User) req {
			return req{path: "/api/v1/tickets/" + id(m.ticket(console.L2).ID) + "/history"}
		}},
		{"GET", "/api/v1/tickets/{id}/comments", signedIn(200), func(m *matrix, _ *console.User) req {
			return req{path: "/api/v1/tickets/" + id(m.ticket(console.L2).ID) + "/comments"}
		}},
		{"POST", "/api/v1/tickets/{id}/comments", techsAtL2(201), func(m *matrix, _ *console.User) req {
			return req{"/api/v1/tickets/" + id(m.ticket(console.L2).ID) + "/comments", map[string]any{"body": "On it."}}
		}},
		{"GET", "/api/v1/tickets/{id}/attachments", signedIn(200), func(m *matrix, _ *console.User) req {
			return req{path: "/api/v1/tickets/" + id(m.ticket(console.L2).ID) + "/attachments"}
		}},
		{"POST", "/api/v1/tickets/{id}/attachments", techsAtL2(201), func(m *matrix, _ *console.User) req {
			return req{"/api/v1/tickets/" + id(m.ticket(console.L2).ID) + "/attachments?name=log.txt", []byte("boot failed\n")}
		}},
		{"GET", "/api/v1/tickets/{id}/attachments/{aid}", signedIn(200), func(m *matrix, _ *console.User) req {
			t := m.ticket(console.L2)
			return req{path: "/api/v1/tickets/" + id(t.ID) + "/attachments/" + id(m.attachment(t).ID)}
		}},
		{"DELETE", "/api/v1/tickets/{id}/attachments/{aid}", techsAtL2(204), func(m *matrix, _ *console.User) req {
			t := m.ticket(console.L2)
			return req{path: "/api/v1/tickets/" + id(t.ID) + "/attachments/" + id(m.attachment(t).ID)}
		}},
		{"PUT", "/api/v1/tickets/{id}/devices/{device_id}", techsAtL2(204), func(m *matrix, _ *console.User) req {
			return req{path: "/api/v1/tickets/" + id(m.ticket(console.L2).ID) + "/devices/" + id(m.device.ID)}
		}},
		{"DELETE", "/api/v1/tickets/{id}/devices/{device_id}", techsAtL2(204), func(m *matrix, _ *console.User) req {
			t := m.ticket(console.L2)
			m.must(m.store.LinkDevice(m.ctx, t.ID, m.device.ID, 0))
			return req{path: "/api/v1/tickets/" + id(t.ID) + "/devices/" + id(m.device.ID)}
		}},
		{"POST", "/api/v1/tickets/{id}/diagnostics/{result_id}", techsAtL2(201), func(m *matrix, _ *console.User) req {
			return req{path: "/api/v1/tickets/" + id(m.ticket(console.L2).ID) + "/diagnostics/" + id(m.diagnostic().ID)}
		}},
		{"GET", "/api/v1/tickets/{id}/sessions", signedIn(200), func(m *matrix, u *console.User) req {
			t := m.ticket(console.L2)
			s := m.remoteSession(u)
			_, err := m.store.UpdateSession(m.ctx, s.ID, console.SessionUpdate{TicketID: &t.ID})
			m.must(err)
			return req{path: "/api/v1/tickets/" + id(t.ID) + "/sessions"}
		}},

		{"GET", "/api/v1/sla-policies", signedIn(200), path("/api/v1/sla-policies")},
		{"POST", "/api/v1/sla-policies", admins(201), func(*matrix, *console.User) req {
			return req{"/api/v1/sla-policies", policyPayload()}
		}},
		{"GET", "/api/v1/sla-policies/{id}", signedIn(200), func(m *matrix, _ *console.User) req {
			return req{path: "/api/v1/sla-policies/" + id(m.slaPolicy().ID)}
		}},
		{"PUT", "/api/v1/sla-policies/{id}", admins(200), func(m *matrix, _ *console.User) req {
			return req{"/api/v1/sla-policies/" + id(m.slaPolicy().ID), policyPayload()}
		}},
		{"DELETE", "/api/v1/sla-policies/{id}", admins(204), func(m *matrix, _ *console.User) req {
			return req{path: "/api/v1/sla-policies/" + id(m.slaPolicy().ID)}
		}},

		{"GET", "/api/v1/escalation-rules", signedIn(200), path("/api/v1/escalation-rules")},
		{"POST", "/api/v1/escalation-rules", admins(201), func(*matrix, *console.User) req {
			return req{"/api/v1/escalation-rules", rulePayload()}
		}},
		{"GET", "/api/v1/escalation-rules/{id}", signedIn(200), func(m *matrix, _ *console.User) req {
			return req{path: "/api/v1/escalation-rules/" + id(m.rule().ID)}
		}},
		{"PUT", "/api/v1/escalation-rules/{id}", admins(200), func(m *matrix, _ *console.User) req {
			return req{"/api/v1/escalation-rules/" + id(m.rule().ID), rulePayload()}
		}},
		{"DELETE", "/api/v1/escalation-rules/{id}", admins(204), func(m *matrix, _ *console.User) req {
			return req{path: "/api/v1/escalation-rules/" + id(m.rule().ID)}
		}},

		{"GET", "/api/v1/devices", signedIn(200), path("/api/v1/devices")},
		{"GET", "/api/v1/devices/{id}", signedIn(200), func(m *matrix, _ *console.User) req {
			return req{path: "/api/v1/devices/" + id(m.device.ID)}
		}},
		{"PATCH", "/api/v1/devices/{id}", admins(200), func(m *matrix, _ *console.User) req {
			return req{"/api/v1/devices/" + id(m.device.ID), map[string]any{"name": "reception-pc"}}
		}},
		{"DELETE", "/api/v1/devices/{id}", admins(204), func(m *matrix, _ *console.User) req {
			return req{path: "/api/v1/devices/" + id(m.enroll("doomed").ID)}
		}},
		{"GET", "/api/v1/devices/{id}/key", signedIn(200), func(m *matrix, _ *console.User) req {
			return req{path: "/api/v1/devices/" + id(m.device.ID) + "/key"}
		}},
		{"GET", "/api/v1/devices/{id}/inventory", signedIn(200), func(m *matrix, _ *console.User) req {
			return req{path: "/api/v1/devices/" + id(m.device.ID) + "/inventory"}
		}},
		{"GET", "/api/v1/devices/{id}/software", signedIn(200), func(m *matrix, _ *console.User) req {
			return req{path: "/api/v1/devices/" + id(m.device.ID) + "/software"}
		}},
		{"GET", "/api/v1/devices/{id}/snapshots", signedIn(200), func(m *matrix, _ *console.User) req {
			return req{path: "/api/v1/devices/" + id(m.device.ID) + "/snapshots"}
		}},
		{"GET", "/api/v1/devices/{id}/changes", signedIn(200), func(m *matrix, _ *console.User) req {
			return req{path: "/api/v1/devices/" + id(m.device.ID) + "/changes?since=2026-01-01T00:00:00Z"}
		}},
		{"GET", "/api/v1/devices/{id}/diagnostics", signedIn(200), func(m *matrix, _ *console.User) req {
			return req{path: "/api/v1/devices/" + id(m.device.ID) + "/diagnostics"}
		}},
		{"POST", "/api/v1/devices/{id}/inventory/refresh", techs(202), func(m *matrix, _ *console.User) req {
			return req{path: "/api/v1/devices/" + id(m.device.ID) + "/inventory/refresh"}
		}},
		{"POST", "/api/v1/devices/{id}/diagnostics", techs(202), func(m *matrix, _ *console.User) req {
			return req{"/api/v1/devices/" + id(m.device.ID) + "/diagnostics", map[string]any{"checks": []string{"disk"}}}
		}},

		{"GET", "/api/v1/sessions", signedIn(200), path("/api/v1/sessions")},
		{"POST", "/api/v1/sessions", techs(201), func(m *matrix, _ *console.User) req {
			return req{"/api/v1/sessions", map[string]any{"kind": "unattended", "device_id": m.device.ID}}
		}},
		{"GET", "/api/v1/sessions/{id}", signedIn(200), func(m *matrix, u *console.User) req {
			return req{path: "/api/v1/sessions/" + id(m.remoteSession(u).ID)}
		}},
		{"GET", "/api/v1/sessions/{id}/events", signedIn(200), func(m *matrix, u *console.User) req {
			return req{path: "/api/v1/sessions/" + id(m.remoteSession(u).ID) + "/events"}
		}},
		{"POST", "/api/v1/sessions/{id}/events", techs(201), func(m *matrix, u *console.User) req {
			return req{"/api/v1/sessions/" + id(m.remoteSession(u).ID) + "/events",
				[]map[string]any{{"type": "chat", "detail": map[string]string{"from": "tech", "text": "hello"}}}}
		}},
		{"POST", "/api/v1/sessions/{id}/relay", techs(200), func(m *matrix, u *console.User) req {
			return req{"/api/v1/sessions/" + id(m.remoteSession(u).ID) + "/relay", map[string]string{"sid": fmt.Sprintf("sid-%d", m.next())}}
		}},
		{"POST", "/api/v1/sessions/{id}/grant", techs(200), func(m *matrix, u *console.User) req {
			return req{"/api/v1/sessions/" + id(m.remoteSession(u).ID) + "/grant",
				map[string]string{"fingerprint": "sha-256 " + strings.Repeat("AB:", 31) + "AB", "device_id": id(m.device.ID)}}
		}},
		{"POST", "/api/v1/sessions/{id}/end", techs(200), func(m *matrix, u *console.User) req {
			return req{path: "/api/v1/sessions/" + id(m.remoteSession(u).ID) + "/end"}
		}},
		{"GET", "/api/v1/sessions/{id}/device-key", techs(200), func(m *matrix, u *console.User) req {
			return req{path: "/api/v1/sessions/" + id(m.remoteSession(u).ID) + "/device-key"}
		}},

		{"PUT", "/api/v1/sessions/{id}/recording", techs(201), func(m *matrix, u *console.User) req {
			return req{"/api/v1/sessions/" + id(m.remoteSession(u).ID) + "/recording", upload{"video/webm", webm}}
		}},
		{"GET", "/api/v1/sessions/{id}/recording", signedIn(200), func(m *matrix, u *console.User) req {
			return req{path: "/api/v1/sessions/" + id(m.recordedSession(u).ID) + "/recording"}
		}},
		{"DELETE", "/api/v1/sessions/{id}/recording", admins(204), func(m *matrix, u *console.User) req {
			return req{path: "/api/v1/sessions/" + id(m.recordedSession(u).ID) + "/recording"}
		}},

		{"GET", "/api/v1/kpis", signedIn(200), path("/api/v1/kpis?bucket=week")},

		{"GET", "/api/v1/webhook-event-types", admins(200), path("/api/v1/webhook-event-types")},
		{"GET", "/api/v1/webhooks", admins(200), path("/api/v1/webhooks")},
		{"POST", "/api/v1/webhooks", admins(201), func(m *matrix, _ *console.User) req {
			return req{"/api/v1/webhooks", map[string]any{"name": "Chat", "url": "https://hooks.example.com/in",
				"event_types": []string{"ticket.created"}}}
		}},
		{"GET", "/api/v1/webhooks/{id}", admins(200), func(m *matrix, _ *console.User) req {
			return req{path: "/api/v1/webhooks/" + id(m.webhook().ID)}
		}},
		{"PATCH", "/api/v1/webhooks/{id}", admins(200), func(m *matrix, _ *console.User) req {
			return req{"/api/v1/webhooks/" + id(m.webhook().ID), map[string]any{"enabled": false}}
		}},
		{"DELETE", "/api/v1/webhooks/{id}", admins(204), func(m *matrix, _ *console.User) req {
			return req{path: "/api/v1/webhooks/" + id(m.webhook().ID)}
		}},
		{"POST", "/api/v1/webhooks/{id}/ping", admins(202), func(m *matrix, _ *console.User) req {
			return req{path: "/api/v1/webhooks/" + id(m.webhook().ID) + "/ping"}
		}},
		{"GET", "/api/v1/webhooks/{id}/deliveries", admins(200), func(m *matrix, _ *console.User) req {
			return req{path: "/api/v1/webhooks/" + id(m.webhook().ID) + "/deliveries"}
		}},
		{"POST", "/api/v1/webhooks/{id}/deliveries/{did}/redeliver", admins(202), func(m *matrix, _ *console.User) req {
			wh, d := m.failedDelivery()
			return req{path: "/api/v1/webhooks/" + id(wh.ID) + "/deliveries/" + id(d.ID) + "/redeliver"}
		}},
	}
}

func newMatrix(t *testing.T) *matrix {
	e := newEnv(t, func(o *Options) {
		o.Throttle = auth.NewThrottle(auth.ThrottleOptions{AccountLimit: 1000, AddressLimit: 1000})
	})
	m := &matrix{env: e}
	m.users[asAdmin] = e.user(console.RoleAdmin, 0)
	m.users[asL1] = e.user(console.RoleTechnician, console.L1)
	m.users[asL2] = e.user(console.RoleTechnician, console.L2)
	m.users[asL3] = e.user(console.RoleTechnician, console.L3)
	m.users[asViewer] = e.user(console.RoleViewer, 0)
	m.users[asToken] = m.users[asAdmin]
	m.tokens = e.token(m.users[asAdmin])
	m.group = &console.DeviceGroup{Name: "Office"}
	e.must(e.store.CreateDeviceGroup(e.ctx, m.group))
	e.must(e.store.SetGrant(e.ctx, &console.Grant{GroupID: m.group.ID, Role: console.RoleTechnician, Permissions: console.PermAll}))
	e.must(e.store.SetGrant(e.ctx, &console.Grant{GroupID: m.group.ID, Role: console.RoleViewer, Permissions: console.PermView}))
	m.device = m.enroll("front-desk")
	raw := []byte(`{"os":{"name":"Ubuntu","version":"24.04"}}`)
	_, err := e.store.IngestInventory(e.ctx, &console.InventoryReport{DeviceID: m.device.ID, SchemaVersion: 1, Raw: raw,
		Sections: map[string]json.RawMessage{"os": raw}, Hostname: "front-desk", OS: console.OSInfo{Name: "Ubuntu", Version: "24.04"},
		Software: []console.Software{{Name: "Firefox", Version: "128.0"}}})
	e.must(err)
	m.team = &console.Team{Name: "Service desk"}
	e.must(e.store.CreateTeam(e.ctx, m.team))
	return m
}

// TestRoleMatrix calls every route as every kind of caller and checks the
// status each gets. The routes come from the router: a route without a row
// here fails the test.
func TestRoleMatrix(t *testing.T) {
	m := newMatrix(t)
	rs := rows(m)
	byRoute := map[string]row{}
	for _, r := range rs {
		k := r.method + " " + r.pattern
		if _, dup := byRoute[k]; dup {
			t.Errorf("two rows for %s", k)
		}
		byRoute[k] = r
	}
	for _, rt := range m.srv.Routes() {
		k := rt.Method + " " + rt.Pattern
		if _, ok := byRoute[k]; !ok {
			t.Errorf("route %s (%s) has no row in the role matrix", k, rt.Access)
		}
		delete(byRoute, k)
	}
	for k := range byRoute {
		t.Errorf("row %s names no route", k)
	}
	for _, r := range rs {
		for w := range nWho {
			var u *console.User
			if w != asAnon {
				u = m.users[w]
			}
			rq := r.prep(m, u)
			resp := m.caller(w).do(r.method, rq.path, rq.body)
			if resp.status != r.want[w] {
				t.Errorf("%s %s as %s: status %d, want %d: %s", r.method, r.pattern, whoNames[w], resp.status, r.want[w],
					bytes.TrimSpace(resp.body))
			}
		}
	}
}

// Package storetest is the conformance suite for console.Store
// implementations. console/sqlite and console/postgres run the same tests
// and benchmarks against real databases:
//
//	func TestStore(t *testing.T) { storetest.Run(t, harness) }
//	func BenchmarkStore(b *testing.B) { storetest.Bench(b, harness) }
package storetest

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/reachdesk/reach/console"
)

// Store is a console.Store with the maintenance methods the suite uses.
type Store interface {
	console.Store
	// SchemaVersion returns the highest applied migration.
	SchemaVersion(ctx context.Context) (int, error)
	// Analyze refreshes the query planner's statistics.
	Analyze(ctx context.Context) error
}

// Harness connects the suite to an implementation.
type Harness struct {
	// NewDB returns the address of a fresh, empty database that is removed
	// when tb ends.
	NewDB func(tb testing.TB) string
	// Open opens a store on addr that reads time from now, applying
	// migrations.
	Open func(ctx context.Context, addr string, now func() time.Time) (Store, error)
}

// Clock is a settable clock for stores under test.
type Clock struct {
	mu sync.Mutex
	t  time.Time // guarded by mu
}

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// epoch is where every test's clock starts: a Monday morning.
var epoch = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// env is one test's store with its clock and fixture counters.
type env struct {
	t     *testing.T
	ctx   context.Context
	s     Store
	clock *Clock
	seq   atomic.Int64
}

// newEnv opens a store on a fresh database.
func newEnv(t *testing.T, h Harness) *env {
	t.Helper()
	e := &env{t: t, ctx: context.Background(), clock: NewClock(epoch)}
	addr := h.NewDB(t)
	s, err := h.Open(e.ctx, addr, e.clock.Now)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	e.s = s
	return e
}

// Run runs the suite, each test on a fresh database.
func Run(t *testing.T, h Harness) {
	tests := []struct {
		name string
		fn   func(*testing.T, Harness)
	}{
		{"Migrations", testMigrations},
		{"Users", testUsers},
		{"APITokens", testAPITokens},
		{"Teams", testTeams},
		{"GroupsAndGrants", testGroupsAndGrants},
		{"Enrollment", testEnrollment},
		{"EnrollmentRace", testEnrollmentRace},
		{"Devices", testDevices},
		{"Inventory", testInventory},
		{"FleetSearch", testFleetSearch},
		{"Diagnostics", testDiagnostics},
		{"Tickets", testTickets},
		{"TicketChildren", testTicketChildren},
		{"TicketQueue", testTicketQueue},
		{"TicketSearch", testTicketSearch},
		{"SLAPolicies", testSLAPolicies},
		{"Sessions", testSessions},
		{"SessionEvents", testSessionEvents},
		{"CSAT", testCSAT},
		{"KPIs", testKPIs},
		{"EscalationRules", testEscalationRules},
		{"ApplyEscalation", testApplyEscalation},
		{"Webhooks", testWebhooks},
		{"WebhookClaimRace", testWebhookClaimRace},
		{"LoginSessions", testLoginSessions},
		{"TOTPSteps", testTOTPSteps},
		{"RecoveryCodes", testRecoveryCodes},
		{"RelaySessions", testRelaySessions},
		{"FinishSession", testFinishSession},
		{"RelayEvents", testRelayEvents},
	}
	tests = append(tests, agentAPITests...)
	tests = append(tests, apiAdminTests...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, h) })
	}
}

func testMigrations(t *testing.T, h Harness) {
	ctx := context.Background()
	addr := h.NewDB(t)
	clock := NewClock(epoch)
	s1, err := h.Open(ctx, addr, clock.Now)
	if err != nil {
		t.Fatalf("first open: %v", err)
	}
	v1, err := s1.SchemaVersion(ctx)
	if err != nil || v1 < 1 {
		t.Fatalf("SchemaVersion = %d, %v; want >= 1", v1, err)
	}
	u := &console.User{Email: "a@example.com", Name: "A", Role: console.RoleAdmin}
	if err := s1.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}
	// Opening again applies nothing and keeps the data.
	for i := range 2 {
		s2, err := h.Open(ctx, addr, clock.Now)
		if err != nil {
			t.Fatalf("reopen %d: %v", i, err)
		}
		v2, err := s2.SchemaVersion(ctx)
		if err != nil || v2 != v1 {
			t.Errorf("SchemaVersion after reopen = %d, %v; want %d", v2, err, v1)
		}
		got, err := s2.FindUserByID(ctx, u.ID)
		if err != nil {
			t.Errorf("user lost after reopen: %v", err)
		} else if got.Email != u.Email {
			t.Errorf("reopened user email = %q", got.Email)
		}
		if err := s2.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// Fixtures.

// user creates a user with a unique email.
func (e *env) user(role console.Role, level console.Level) *console.User {
	e.t.Helper()
	n := e.seq.Add(1)
	u := &console.User{Email: fmt.Sprintf("user%d@example.com", n), Name: fmt.Sprintf("User %d", n), Role: role, Level: level}
	e.must(e.s.CreateUser(e.ctx, u))
	return u
}

// tech creates an L1 technician.
func (e *env) tech() *console.User { return e.user(console.RoleTechnician, console.L1) }

func (e *env) group() *console.DeviceGroup {
	e.t.Helper()
	g := &console.DeviceGroup{Name: fmt.Sprintf("Group %d", e.seq.Add(1))}
	e.must(e.s.CreateDeviceGroup(e.ctx, g))
	return g
}

func (e *env) team() *console.Team {
	e.t.Helper()
	t := &console.Team{Name: fmt.Sprintf("Team %d", e.seq.Add(1))}
	e.must(e.s.CreateTeam(e.ctx, t))
	return t
}

// hash returns a distinct 32-byte hash per label.
func hash(label string) []byte {
	h := sha256.Sum256([]byte(label))
	return h[:]
}

// key returns a deterministic Ed25519 public key per label.
func key(label string) ed25519.PublicKey {
	return ed25519.NewKeyFromSeed(hash(label)).Public().(ed25519.PublicKey)
}

// enrollmentToken creates a token for g with max uses.
func (e *env) enrollmentToken(g *console.DeviceGroup, max int) (*console.EnrollmentToken, []byte) {
	e.t.Helper()
	secret := hash(fmt.Sprintf("secret %d", e.seq.Add(1)))
	tok := &console.EnrollmentToken{GroupID: g.ID, Name: "token", SecretHash: secret, ExpiresAt: e.clock.Now().Add(24 * time.Hour), MaxUses: max}
	e.must(e.s.CreateEnrollmentToken(e.ctx, tok))
	return tok, secret
}

// device enrolls a device named name into g.
func (e *env) device(g *console.DeviceGroup, name string) *console.Device {
	e.t.Helper()
	_, secret := e.enrollmentToken(g, 1)
	d := &console.Device{Name: name, PublicKey: key(fmt.Sprintf("device %d", e.seq.Add(1))), Hostname: name}
	e.must(e.s.Enroll(e.ctx, secret, d))
	return d
}

// ticket creates a valid ticket, changed by mod if not nil.
func (e *env) ticket(mod func(*console.Ticket)) *console.Ticket {
	e.t.Helper()
	t := &console.Ticket{Title: fmt.Sprintf("Ticket %d", e.seq.Add(1)), Channel: console.ChannelPhone,
		Priority: console.P3, Status: console.StatusNew, Level: console.L1}
	if mod != nil {
		mod(t)
	}
	e.must(e.s.CreateTicket(e.ctx, t))
	return t
}

// Assertions.

func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

// wantCode fails unless err carries code.
func wantCode(t testing.TB, what string, err error, code console.Code) {
	t.Helper()
	if got := console.ErrorCode(err); got != code {
		t.Errorf("%s: error %v has code %q, want %q", what, err, got, code)
	}
}

// equal fails unless got and want are deeply equal.
func equal[T any](t testing.TB, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}

// deref turns []*T into []T for readable comparisons.
func deref[T any](ps []*T) []T {
	out := make([]T, len(ps))
	for i, p := range ps {
		out[i] = *p
	}
	return out
}

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }

package installer

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reachdesk/reach/agent/enroll"
	"github.com/reachdesk/reach/console"
	"github.com/reachdesk/reach/console/agentapi"
	"github.com/reachdesk/reach/console/auth"
	"github.com/reachdesk/reach/console/signing"
	"github.com/reachdesk/reach/console/sqlite"
)

// agentEnroller is reach-agent's enroller: agent/enroll.
type agentEnroller struct{}

func (agentEnroller) Enrolled(dir string) (bool, error) { return enroll.Enrolled(dir) }

func (agentEnroller) Enroll(ctx context.Context, server, token, dir string, replace bool) error {
	_, err := enroll.Enroll(ctx, enroll.Options{Server: server, Token: token, Dir: dir, Force: replace, Hostname: "test-pc"})
	return err
}

// TestRoundTripWithConsole installs against a real console (the agent API
// on SQLite): a wrong token leaves nothing; install enrolls one device;
// a second install keeps it; uninstall leaves the root as it was.
func TestRoundTripWithConsole(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "console.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	api, err := agentapi.New(db, signing.New(key, nil), agentapi.Options{RelayURL: "wss://relay.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api)
	defer srv.Close()
	g := &console.DeviceGroup{Name: "Laptops"}
	if err := db.CreateDeviceGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	secret, _ := auth.NewSecret()
	if err := db.CreateEnrollmentToken(ctx, &console.EnrollmentToken{GroupID: g.ID, Name: "rollout", SecretHash: auth.HashSecret(secret),
		ExpiresAt: time.Now().Add(time.Hour), MaxUses: 5}); err != nil {
		t.Fatal(err)
	}
	devices := func() int {
		n, err := db.CountDevices(ctx, console.DeviceFilter{})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	root := testRoot(t)
	sup := newSupervisor(t, root)
	self, _ := os.Executable()
	in := New(LinuxLayout(root), Systemd{Ctl: sup}, Options{Enroller: agentEnroller{}, Settle: 300 * time.Millisecond,
		Executable: func() (string, error) { return self, nil }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	cfg := Config{Server: srv.URL, Unattended: UnattendedAllow}
	before := tree(t, root)

	if _, err := in.Install(ctx, InstallRequest{Config: cfg, Token: "not-the-token"}); !errors.Is(err, enroll.ErrRefused) {
		t.Fatalf("wrong token: %v", err)
	}
	if d := diffTrees(before, tree(t, root)); d != "" || devices() != 0 {
		t.Fatalf("refused install left %d devices and:\n%s", devices(), d)
	}

	res, err := in.Install(ctx, InstallRequest{Config: cfg, Token: secret})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Enrolled || devices() != 1 {
		t.Fatalf("enrolled=%v devices=%d", res.Enrolled, devices())
	}
	st, err := enroll.Load(filepath.Join(root, "var/lib/reach-agent"))
	if err != nil || st.Server != srv.URL || st.RelayURL != "wss://relay.example.com" {
		t.Fatalf("identity %+v, %v", st, err)
	}
	installed := tree(t, root)
	for p, mode := range installed {
		if strings.HasPrefix(p, "var/lib/reach-agent/") && mode != "-rw-------" && !strings.HasPrefix(mode, "d") {
			t.Errorf("%s is %s, want owner-only", p, mode)
		}
	}

	if res, err := in.Install(ctx, InstallRequest{Config: cfg, Token: secret}); err != nil || res.Enrolled || devices() != 1 {
		t.Fatalf("second install: %+v, %v, %d devices", res, err, devices())
	}
	if d := diffTrees(installed, tree(t, root)); d != "" {
		t.Fatalf("second install changed:\n%s", d)
	}

	if err := in.Uninstall(ctx, false); err != nil {
		t.Fatal(err)
	}
	if d := diffTrees(before, tree(t, root)); d != "" {
		t.Fatalf("uninstall left:\n%s", d)
	}
}

package installer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// fakeAgentEnv makes the test binary act as reach-agent when the
// supervisor runs it: `version` prints a version, `serve` runs until
// SIGTERM and fails at once without its config in the environment.
const fakeAgentEnv = "REACH_INSTALLER_FAKE_AGENT"

func TestMain(m *testing.M) {
	if os.Getenv(fakeAgentEnv) == "1" || (len(os.Args) > 1 && os.Args[1] == "version") {
		os.Exit(fakeAgent(os.Args[1:]))
	}
	os.Exit(m.Run())
}

func fakeAgent(args []string) int {
	switch {
	case len(args) == 1 && args[0] == "version":
		fmt.Println("reach-agent test")
		return 0
	case len(args) == 1 && args[0] == "serve":
		if os.Getenv("REACH_AGENT_SERVER") == "" || os.Getenv("REACH_AGENT_POLICY") == "" {
			fmt.Fprintln(os.Stderr, "fake agent: config not in the environment")
			return 2
		}
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
		defer stop()
		<-ctx.Done()
		return 0
	}
	return 2
}

// fakeEnroller writes a device key like agent/enroll; token "bad" fails.
type fakeEnroller struct {
	mu    sync.Mutex
	calls int
}

func (e *fakeEnroller) Enrolled(dir string) (bool, error) {
	_, err := os.Stat(filepath.Join(dir, "device.key"))
	return err == nil, nil
}

func (e *fakeEnroller) Enroll(ctx context.Context, server, token, dir string, replace bool) error {
	e.mu.Lock()
	e.calls++
	e.mu.Unlock()
	if token == "bad" {
		return errors.New("console: enrollment token is invalid or expired")
	}
	return os.WriteFile(filepath.Join(dir, "device.key"), []byte("key for "+server), 0o600)
}

// testRoot makes a root with the directories a Debian system has.
func testRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{"usr/local/bin", "etc/systemd/system/multi-user.target.wants", "var/lib", "tmp"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Like a real system, the wants directory is not empty (systemctl
	// disable removes an empty one).
	if err := os.Symlink("/lib/systemd/system/cron.service", filepath.Join(root, "etc/systemd/system/multi-user.target.wants/cron.service")); err != nil {
		t.Fatal(err)
	}
	return root
}

func newTestInstaller(t *testing.T, root string, opts Options) (*Installer, *supervisor, *fakeEnroller) {
	t.Helper()
	sup := newSupervisor(t, root)
	enr := &fakeEnroller{}
	if opts.Enroller == nil {
		opts.Enroller = enr
	}
	if opts.Settle == 0 {
		opts.Settle = 400 * time.Millisecond
	}
	opts.StartTimeout = 5 * time.Second
	opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	opts.Executable = func() (string, error) { return self, nil }
	return New(LinuxLayout(root), Systemd{Ctl: sup}, opts), sup, enr
}

var testConfig = Config{Server: "https://console.example.com", Unattended: UnattendedConsent}

// tree lists every path under root with its type, mode and link target.
func tree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		v := info.Mode().String()
		if info.Mode()&fs.ModeSymlink != 0 {
			target, _ := os.Readlink(p)
			v += " -> " + target
		}
		out[rel] = v
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func diffTrees(a, b map[string]string) string {
	var keys []string
	seen := map[string]bool{}
	for k := range a {
		keys, seen[k] = append(keys, k), true
	}
	for k := range b {
		if !seen[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var out strings.Builder
	for _, k := range keys {
		if a[k] != b[k] {
			fmt.Fprintf(&out, "  %s: %q -> %q\n", k, a[k], b[k])
		}
	}
	return out.String()
}

func TestInstallEnrollUninstallRoundTrip(t *testing.T) {
	root := testRoot(t)
	in, sup, enr := newTestInstaller(t, root, Options{})
	ctx := context.Background()
	before := tree(t, root)

	res, err := in.Install(ctx, InstallRequest{Config: testConfig, Token: "good"})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Enrolled || !res.Status.Active {
		t.Fatalf("result %+v", res)
	}
	installed := tree(t, root)
	want := map[string]string{
		"usr/local/bin/reach-agent":              "-rwxr-xr-x",
		"etc/reach":                              "drwxr-xr-x",
		"etc/reach/agent.conf":                   "-rw-------",
		"var/lib/reach-agent":                    "drwx------",
		"var/lib/reach-agent/device.key":         "-rw-------",
		"etc/systemd/system/reach-agent.service": "-rw-r--r--",
		"etc/systemd/system/multi-user.target.wants/reach-agent.service": "Lrwxrwxrwx -> /etc/systemd/system/reach-agent.service",
		// No desktop in this root yet: the autostart directories are made
		// and removed again by uninstall.
		"etc/xdg":           "drwxr-xr-x",
		"etc/xdg/autostart": "drwxr-xr-x",
		"etc/xdg/autostart/reach-agent-ui.desktop": "-rw-r--r--",
	}
	for p, mode := range want {
		if installed[p] != mode {
			t.Errorf("%s: %q, want %q", p, installed[p], mode)
		}
	}
	if d := diffTrees(before, installed); strings.Count(d, "\n") != len(want) {
		t.Errorf("install changed more than expected:\n%s", d)
	}
	self, _ := os.Executable()
	sameContent(t, self, filepath.Join(root, "usr/local/bin/reach-agent"))
	conf, _ := os.ReadFile(filepath.Join(root, "etc/reach/agent.conf"))
	for _, line := range []string{"REACH_AGENT_SERVER=https://console.example.com", "REACH_AGENT_POLICY=ask", "REACH_AGENT_UNATTENDED=consent", "REACH_AGENT_STATE=/var/lib/reach-agent", "REACH_AGENT_UI=bridge", "DISPLAY=:0"} {
		if !bytes.Contains(conf, []byte(line+"\n")) {
			t.Errorf("config lacks %q:\n%s", line, conf)
		}
	}

	// Twice: one install, still enrolled once, service restarted and healthy.
	pid := res.Status.PID
	res2, err := in.Install(ctx, InstallRequest{Config: testConfig, Token: "good"})
	if err != nil {
		t.Fatal(err)
	}
	if res2.Enrolled || enr.calls != 1 {
		t.Fatalf("second install enrolled again (calls %d)", enr.calls)
	}
	if res2.Status.PID == pid || !res2.Status.Active {
		t.Fatalf("second install did not restart the service: %+v", res2.Status)
	}
	if d := diffTrees(installed, tree(t, root)); d != "" {
		t.Fatalf("second install changed the tree:\n%s", d)
	}

	if err := in.Uninstall(ctx, false); err != nil {
		t.Fatal(err)
	}
	if st, _ := (Systemd{Ctl: sup}).Status(ctx); st.Active {
		t.Fatal("service still running after uninstall")
	}
	if d := diffTrees(before, tree(t, root)); d != "" {
		t.Fatalf("uninstall left this behind:\n%s", d)
	}
	// Uninstalling again finds nothing to do.
	if err := in.Uninstall(ctx, false); err != nil {
		t.Fatal(err)
	}
}

func sameContent(t *testing.T, a, b string) {
	t.Helper()
	ba, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	bb, err := os.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ba, bb) {
		t.Fatalf("%s and %s differ", a, b)
	}
}

func TestInstallUnattendedAllow(t *testing.T) {
	root := testRoot(t)
	in, _, _ := newTestInstaller(t, root, Options{})
	c := testConfig
	c.Unattended = UnattendedAllow
	c.Relay = "wss://relay.example.com"
	c.Display, c.XAuthority = ":1", "/run/user/1000/gdm/Xauthority"
	if _, err := in.Install(context.Background(), InstallRequest{Config: c, Token: "good"}); err != nil {
		t.Fatal(err)
	}
	got, err := ReadConfig(filepath.Join(root, "etc/reach/agent.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if got != c {
		t.Fatalf("read back %+v, want %+v", got, c)
	}
	conf, _ := os.ReadFile(filepath.Join(root, "etc/reach/agent.conf"))
	if !bytes.Contains(conf, []byte("REACH_AGENT_POLICY=control\n")) {
		t.Fatalf("allow did not map to the control policy:\n%s", conf)
	}
}

func TestInstallErrorsLeaveNothing(t *testing.T) {
	tests := []struct {
		name  string
		req   InstallRequest
		want  error
		words string
	}{
		{"bad token", InstallRequest{Config: testConfig, Token: "bad"}, nil, "invalid or expired"},
		{"no token", InstallRequest{Config: testConfig}, ErrTokenRequired, "token is required"},
		{"bad server", InstallRequest{Config: Config{Server: "ftp://x", Unattended: UnattendedConsent}, Token: "good"}, nil, "want https|http"},
		{"plain http to another host", InstallRequest{Config: Config{Server: "http://console.example.com", Unattended: UnattendedConsent}, Token: "good"}, nil, "use https://"},
		{"credentials in URL", InstallRequest{Config: Config{Server: "https://u:p@x", Unattended: UnattendedConsent}, Token: "good"}, nil, "credentials"},
		{"bad policy", InstallRequest{Config: Config{Server: "https://x", Unattended: "sometimes"}, Token: "good"}, nil, "consent or allow"},
		{"newline in display", InstallRequest{Config: Config{Server: "https://x", Unattended: UnattendedConsent, Display: ":0\nLD_PRELOAD=/x"}, Token: "good"}, nil, "not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := testRoot(t)
			in, _, _ := newTestInstaller(t, root, Options{})
			before := tree(t, root)
			_, err := in.Install(context.Background(), tt.req)
			if err == nil {
				t.Fatal("install succeeded")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.words) {
				t.Fatalf("error %q does not say %q", err, tt.words)
			}
			if d := diffTrees(before, tree(t, root)); d != "" {
				t.Fatalf("failed install left:\n%s", d)
			}
		})
	}
}

func TestInstallKeepsIdentityAndRefusesAnotherServer(t *testing.T) {
	root := testRoot(t)
	in, _, enr := newTestInstaller(t, root, Options{})
	ctx := context.Background()
	if _, err := in.Install(ctx, InstallRequest{Config: testConfig, Token: "good"}); err != nil {
		t.Fatal(err)
	}
	if err := in.Uninstall(ctx, true); err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(root, "var/lib/reach-agent/device.key")
	if _, err := os.Stat(key); err != nil {
		t.Fatalf("--keep-config lost the identity: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "usr/local/bin/reach-agent")); err == nil {
		t.Fatal("--keep-config kept the binary")
	}
	// Reinstall without a token reuses the identity.
	if _, err := in.Install(ctx, InstallRequest{Config: testConfig}); err != nil {
		t.Fatal(err)
	}
	if enr.calls != 1 {
		t.Fatalf("enrolled %d times", enr.calls)
	}
	other := testConfig
	other.Server = "https://other.example.com"
	if _, err := in.Install(ctx, InstallRequest{Config: other, Token: "good"}); !errors.Is(err, ErrServerChanged) {
		t.Fatalf("moved to another console silently: %v", err)
	}
	if _, err := in.Install(ctx, InstallRequest{Config: other, Token: "good", Reenroll: true}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(key); string(b) != "key for https://other.example.com" {
		t.Fatalf("identity after re-enroll: %q", b)
	}
}

// script writes an executable shell script under dir.
func script(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestUpgrade(t *testing.T) {
	self, _ := os.Executable()
	tests := []struct {
		name       string
		body       string // the new binary, a script
		wantErr    error
		rolledBack bool // the old binary is in place afterwards
		restarted  bool
	}{
		{"healthy", `exec "` + self + `" "$@"`, nil, false, true},
		{"crashes at start", `[ "$1" = version ] && { echo "reach-agent 2.0"; exit 0; }; exit 1`, ErrRolledBack, true, true},
		{"crashes after a while", `[ "$1" = version ] && { echo "reach-agent 2.0"; exit 0; }; sleep 0.2; exit 3`, ErrRolledBack, true, true},
		{"not an agent", `echo hello`, nil, true, false},
		{"not runnable", `exit 126`, nil, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := testRoot(t)
			in, sup, _ := newTestInstaller(t, root, Options{})
			ctx := context.Background()
			if _, err := in.Install(ctx, InstallRequest{Config: testConfig, Token: "good"}); err != nil {
				t.Fatal(err)
			}
			installed := tree(t, root)
			before, _ := (Systemd{Ctl: sup}).Status(ctx)
			newBin := script(t, t.TempDir(), "reach-agent", tt.body)

			err := in.Upgrade(ctx, newBin)
			switch {
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Fatalf("err %v, want %v", err, tt.wantErr)
			case tt.wantErr == nil && tt.rolledBack && err == nil:
				t.Fatal("upgrade to a broken binary succeeded")
			case !tt.rolledBack && err != nil:
				t.Fatal(err)
			}
			bin := filepath.Join(root, "usr/local/bin/reach-agent")
			if tt.rolledBack {
				sameContent(t, self, bin)
			} else {
				sameContent(t, newBin, bin)
			}
			after, _ := (Systemd{Ctl: sup}).Status(ctx)
			if !after.Active {
				t.Fatalf("service not running after upgrade: %+v", after)
			}
			if (after.PID != before.PID) != tt.restarted {
				t.Fatalf("restarted=%v, want %v", after.PID != before.PID, tt.restarted)
			}
			// No staged or previous binary is left behind.
			if d := diffTrees(installed, tree(t, root)); d != "" {
				t.Fatalf("upgrade left:\n%s", d)
			}
		})
	}
}

func TestUpgradeNotInstalled(t *testing.T) {
	root := testRoot(t)
	in, _, _ := newTestInstaller(t, root, Options{})
	self, _ := os.Executable()
	if err := in.Upgrade(context.Background(), self); err == nil || !strings.Contains(err.Error(), "not installed") {
		t.Fatalf("err %v", err)
	}
}

func TestHealthCheckHook(t *testing.T) {
	root := testRoot(t)
	in, _, _ := newTestInstaller(t, root, Options{Check: func(context.Context) error { return errors.New("relay not reached") }})
	_, err := in.Install(context.Background(), InstallRequest{Config: testConfig, Token: "good"})
	if !errors.Is(err, ErrUnhealthy) || !strings.Contains(err.Error(), "relay not reached") {
		t.Fatalf("err %v", err)
	}
}

// TestUnitVerifies runs systemd-analyze verify on the unit; any warning
// (unknown key, bad value) fails the test.
func TestUnitVerifies(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze not installed (scripts/setup.sh installs systemd)")
	}
	dir := t.TempDir()
	self, _ := os.Executable()
	for _, l := range []Layout{LinuxLayout(""), LinuxPackagedLayout("")} {
		l.Binary = self // verify checks that ExecStart exists
		unit := filepath.Join(dir, unitName)
		if err := os.WriteFile(unit, Unit(l), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("systemd-analyze", "verify", "--man=no", unit).CombinedOutput()
		if err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
		}
	}
}

// TestUnitLines pins the unit's hardening.
func TestUnitLines(t *testing.T) {
	unit := string(Unit(LinuxLayout("")))
	for _, line := range []string{
		"ExecStart=/usr/local/bin/reach-agent serve",
		"EnvironmentFile=/etc/reach/agent.conf",
		"Restart=on-failure", "RestartSec=5s",
		"NoNewPrivileges=yes", "ProtectSystem=strict", "ReadWritePaths=/var/lib/reach-agent",
		"ProtectHome=read-only", "PrivateTmp=yes", "BindReadOnlyPaths=-/tmp/.X11-unix",
		"CapabilityBoundingSet=CAP_DAC_READ_SEARCH CAP_SYS_PTRACE", "UMask=0077",
		"WantedBy=multi-user.target",
	} {
		if !strings.Contains(unit, "\n"+line+"\n") {
			t.Errorf("unit lacks %q", line)
		}
	}
	if strings.Contains(unit, "PrivateIPC") || strings.Contains(unit, "PrivateNetwork") {
		t.Error("PrivateIPC/PrivateNetwork break MIT-SHM capture and Xorg's abstract socket")
	}
}

// TestPackagedInstall installs on top of the .deb/.rpm files: the package's
// binary and unit stay untouched, config and identity are written, and
// uninstall and upgrade are left to the package manager.
func TestPackagedInstall(t *testing.T) {
	root := testRoot(t)
	l := LinuxPackagedLayout(root)
	self, _ := os.Executable()
	bin, unit := l.Path(l.Binary), l.Path(l.Unit)
	os.MkdirAll(filepath.Dir(bin), 0o755)
	os.MkdirAll(filepath.Dir(unit), 0o755)
	if err := copyFileAtomic(self, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(unit, Unit(l), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := DetectLayout(root, bin); !got.Packaged {
		t.Fatalf("DetectLayout(%s) = %+v", bin, got)
	}
	if got := DetectLayout(root, self); got.Packaged {
		t.Fatal("a binary elsewhere was taken for the package's")
	}
	binSt, _ := os.Stat(bin)
	unitSt, _ := os.Stat(unit)

	sup := newSupervisor(t, root)
	in := New(l, Systemd{Ctl: sup}, Options{Enroller: &fakeEnroller{}, Settle: 300 * time.Millisecond,
		Executable: func() (string, error) { return bin, nil }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ctx := context.Background()
	if _, err := in.Install(ctx, InstallRequest{Config: testConfig, Token: "good"}); err != nil {
		t.Fatal(err)
	}
	for name, before := range map[string]os.FileInfo{bin: binSt, unit: unitSt} {
		after, err := os.Stat(name)
		if err != nil || !os.SameFile(before, after) || !after.ModTime().Equal(before.ModTime()) {
			t.Errorf("install rewrote the package's %s", name)
		}
	}
	if _, err := os.Lstat(filepath.Join(root, "etc/systemd/system/multi-user.target.wants/reach-agent.service")); err != nil {
		t.Errorf("not enabled: %v", err)
	}
	if err := in.Uninstall(ctx, false); !errors.Is(err, ErrPackaged) {
		t.Errorf("uninstall of a packaged agent: %v", err)
	}
	if err := in.Upgrade(ctx, self); err == nil || !strings.Contains(err.Error(), "package") {
		t.Errorf("upgrade of a packaged agent: %v", err)
	}
}

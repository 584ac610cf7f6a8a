package installer

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAutostartEntry(t *testing.T) {
	for _, tc := range []struct {
		l    Layout
		exec string
	}{
		{LinuxLayout("/"), "Exec=/usr/local/bin/reach-agent ui\n"},
		{LinuxPackagedLayout("/"), "Exec=/usr/bin/reach-agent ui\n"},
	} {
		got := string(Autostart(tc.l))
		for _, line := range []string{"[Desktop Entry]\n", "Type=Application\n", tc.exec, "NoDisplay=true\n", "Terminal=false\n"} {
			if !strings.Contains(got, line) {
				t.Errorf("%s: entry lacks %q:\n%s", tc.l.Binary, line, got)
			}
		}
	}
	for _, l := range []Layout{DarwinLayout("/"), WindowsLayout("/")} {
		if l.Autostart != "" {
			t.Errorf("%s has an XDG autostart entry", l.Binary)
		}
	}
}

// TestAutostartKeepsOtherEntries: on a desktop, uninstall removes only
// its own entry and leaves the autostart directory with the others.
func TestAutostartKeepsOtherEntries(t *testing.T) {
	root := testRoot(t)
	other := filepath.Join(root, "etc/xdg/autostart/other.desktop")
	if err := os.MkdirAll(filepath.Dir(other), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(other, []byte("[Desktop Entry]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	in, _, _ := newTestInstaller(t, root, Options{})
	ctx := context.Background()
	before := tree(t, root)
	if _, err := in.Install(ctx, InstallRequest{Config: testConfig, Token: "good"}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, AutostartPath))
	if err != nil || !strings.Contains(string(b), "Exec=/usr/local/bin/reach-agent ui") {
		t.Fatalf("autostart entry: %q, %v", b, err)
	}
	if err := in.Uninstall(ctx, false); err != nil {
		t.Fatal(err)
	}
	if d := diffTrees(before, tree(t, root)); d != "" {
		t.Fatalf("uninstall changed:\n%s", d)
	}
}

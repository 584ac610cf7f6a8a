package packaging

import (
	"bytes"
	"os"
	"testing"

	"github.com/reachdesk/reach/installer"
)

// TestAgentAutostart keeps the packaged XDG autostart entry (which starts
// `reach-agent ui` in every graphical session) equal to the installer's.
func TestAgentAutostart(t *testing.T) {
	want := installer.Autostart(installer.LinuxPackagedLayout(""))
	const golden = "xdg/reach-agent-ui.desktop"
	if os.Getenv("REACH_UPDATE_GOLDEN") != "" {
		if err := os.WriteFile(golden, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from installer.Autostart; run REACH_UPDATE_GOLDEN=1 go test ./packaging", golden)
	}
}

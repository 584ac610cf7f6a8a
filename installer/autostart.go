package installer

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// AutostartPath is the XDG autostart entry that starts `reach-agent ui` in
// every graphical session on Linux (GNOME, KDE, Xfce, MATE, Cinnamon,
// LXQt all read /etc/xdg/autostart).
const AutostartPath = "/etc/xdg/autostart/reach-agent-ui.desktop"

// Autostart renders the XDG autostart entry for l's binary: it runs
// `reach-agent ui`, which attaches to the service's consent bridge and
// shows its questions to the signed-in user.
func Autostart(l Layout) []byte {
	var b bytes.Buffer
	b.WriteString("# Written by reach-agent install (or the reach-agent package); removed on uninstall.\n")
	b.WriteString("[Desktop Entry]\n")
	b.WriteString("Type=Application\n")
	b.WriteString("Name=Reach remote support\n")
	b.WriteString("Comment=Asks you before a technician sees or controls this computer\n")
	fmt.Fprintf(&b, "Exec=%s ui\n", l.Binary)
	b.WriteString("Terminal=false\n")
	b.WriteString("NoDisplay=true\n")
	b.WriteString("X-GNOME-Autostart-enabled=true\n")
	return b.Bytes()
}

// installAutostart writes the autostart entry of an unpackaged Linux
// install (the package ships its own).
func (in *Installer) installAutostart() error {
	l := in.layout
	if l.Autostart == "" || l.Packaged {
		return nil
	}
	name := l.Path(l.Autostart)
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return fmt.Errorf("installer: autostart entry: %w", err)
	}
	if err := writeFileAtomic(name, Autostart(l), 0o644); err != nil {
		return fmt.Errorf("installer: autostart entry: %w", err)
	}
	return nil
}

// removeAutostart deletes the autostart entry, then its directory and
// /etc/xdg when they are left empty (a machine without a desktop had
// neither before install).
func (in *Installer) removeAutostart() error {
	l := in.layout
	if l.Autostart == "" {
		return nil
	}
	name := l.Path(l.Autostart)
	if err := removeIfExists(name); err != nil {
		return fmt.Errorf("installer: %w", err)
	}
	for dir := filepath.Dir(name); dir != l.Path("/etc"); dir = filepath.Dir(dir) {
		if err := os.Remove(dir); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			break // not empty: other programs' entries
		}
	}
	return nil
}

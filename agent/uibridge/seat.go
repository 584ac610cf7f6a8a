package uibridge

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// LogindSessions is where systemd-logind publishes its sessions.
const LogindSessions = "/run/systemd/sessions"

// SeatAuthorizer admits root and the users signed in to display: those
// with an active logind session (ACTIVE=1) whose DISPLAY is display. A
// user switched away (fast user switching), signed in over SSH or on a
// text console is refused, so only the person in front of the shared
// screen answers. Without logind (sessionsDir missing), it admits the
// owner of xauthority, the X authority file the service uses, if any.
func SeatAuthorizer(display, sessionsDir, xauthority string) func(Peer) error {
	return func(p Peer) error {
		if p.UID == 0 {
			return nil
		}
		uids, err := displayUsers(sessionsDir, display)
		if errors.Is(err, fs.ErrNotExist) {
			if owner, ok := fileOwner(xauthority); ok && owner == p.UID {
				return nil
			}
			return fmt.Errorf("uid %d: cannot tell who is signed in to display %s (no systemd-logind)", p.UID, display)
		}
		if err != nil {
			return fmt.Errorf("uid %d: %w", p.UID, err)
		}
		if uids[p.UID] {
			return nil
		}
		return fmt.Errorf("uid %d has no active session on display %s", p.UID, display)
	}
}

// displayUsers reads logind's session files: the uids with an active
// session on display.
func displayUsers(dir, display string) (map[uint32]bool, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	uids := map[uint32]bool{}
	for _, e := range entries {
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil || len(b) > 64<<10 {
			continue // a session ending as we read
		}
		kv := map[string]string{}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), "="); ok {
				kv[k] = v
			}
		}
		if kv["ACTIVE"] != "1" || !sameDisplay(kv["DISPLAY"], display) {
			continue
		}
		if uid, err := strconv.ParseUint(kv["UID"], 10, 32); err == nil {
			uids[uint32(uid)] = true
		}
	}
	return uids, nil
}

// sameDisplay compares X display names ignoring the screen: ":0" and
// ":0.0" are the same display.
func sameDisplay(a, b string) bool {
	norm := func(d string) string {
		if i := strings.LastIndex(d, ":"); i >= 0 {
			if j := strings.Index(d[i:], "."); j >= 0 {
				d = d[:i+j]
			}
		}
		return d
	}
	return a != "" && norm(a) == norm(b)
}

// Listen listens on the Unix socket path for user processes: it creates
// its directory (0755) if missing, replaces a stale socket left by a
// previous run, and makes the socket connectable by every local user
// (0666): the peer check, not the file mode, decides who may attach.
func Listen(path string) (*net.UnixListener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("uibridge: %w", err)
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&fs.ModeSocket == 0 {
			return nil, fmt.Errorf("uibridge: %s exists and is not a socket", path)
		}
		os.Remove(path)
	}
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("uibridge: %w", err)
	}
	if err := os.Chmod(path, 0o666); err != nil {
		l.Close()
		return nil, fmt.Errorf("uibridge: %w", err)
	}
	return l, nil
}

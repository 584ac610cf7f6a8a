package installer

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reachdesk/reach/agent/capture"
)

// sandboxCaptureEnv makes the test binary capture one frame of $DISPLAY
// over MIT-SHM, as the agent does, and exit.
const sandboxCaptureEnv = "REACH_INSTALLER_SANDBOX_CAPTURE"

func init() {
	if os.Getenv(sandboxCaptureEnv) != "1" {
		return
	}
	x, err := capture.OpenX11(capture.Options{})
	if err == nil {
		_, err = x.Capture()
	}
	if err != nil {
		fmt.Println("capture failed:", err)
		os.Exit(1)
	}
	fmt.Println("captured")
	os.Exit(0)
}

// TestUnitSandboxReachesX checks the unit's sandbox decisions against a
// real X server without systemd (not PID 1 here): the mount and capability
// parts of the unit are reproduced with unshare(1) and setpriv(1) — a
// read-only root and home, a private /tmp with /tmp/.X11-unix bound back
// read-only, no new privileges, the bounding set CAP_DAC_READ_SEARCH and
// CAP_SYS_PTRACE — and the agent's capture (MIT-SHM) must work with the
// X cookie of another user (0600). Without the bind, or without
// CAP_DAC_READ_SEARCH, it must fail: the lines are there for a reason.
func TestUnitSandboxReachesX(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for mount namespaces")
	}
	for _, tool := range []string{"unshare", "setpriv", "xauth", "Xvfb"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	if err := exec.Command("unshare", "-m", "true").Run(); err != nil {
		t.Skipf("no mount namespaces here: %v", err)
	}
	// The user's home (0700) with its X cookie (0600), owned by a uid
	// that is not root. It must live outside /tmp, which the sandbox hides.
	home, err := os.MkdirTemp("/var/tmp", "reach-sandbox-home")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(home)
	cookie := make([]byte, 16)
	rand.Read(cookie)
	xauth := filepath.Join(home, ".Xauthority")
	// Xvfb loads the cookie at start; clients look it up by display
	// number, known only once Xvfb runs, so it is added again below.
	if out, err := exec.Command("xauth", "-f", xauth, "add", ":0", ".", hex.EncodeToString(cookie)).CombinedOutput(); err != nil {
		t.Fatalf("xauth: %v %s", err, out)
	}
	r, w, _ := os.Pipe()
	xvfb := exec.Command("Xvfb", "-displayfd", "3", "-auth", xauth, "-nolisten", "tcp", "-screen", "0", "320x240x24")
	xvfb.ExtraFiles = []*os.File{w}
	if err := xvfb.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { xvfb.Process.Kill(); xvfb.Wait() }()
	w.Close()
	num := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		num <- strings.TrimSpace(line)
	}()
	var display string
	select {
	case n := <-num:
		display = ":" + n
	case <-time.After(10 * time.Second):
		t.Fatal("Xvfb did not start")
	}
	// The same cookie under the display Xvfb picked, for the client.
	if out, err := exec.Command("xauth", "-f", xauth, "add", display, ".", hex.EncodeToString(cookie)).CombinedOutput(); err != nil {
		t.Fatalf("xauth: %v %s", err, out)
	}
	if err := os.Chown(home, 4242, 4242); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(xauth, 4242, 4242); err != nil {
		t.Fatal(err)
	}
	os.Chmod(xauth, 0o600)
	os.Chmod(home, 0o700)

	self, _ := os.Executable()
	// The test binary may itself live under /tmp: copy it next to the home.
	bin := filepath.Join(filepath.Dir(home), filepath.Base(home)+".bin")
	if err := copyFileAtomic(self, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(bin)

	sandbox := func(bindX11 bool, caps string) (string, error) {
		script := `set -e
mount --make-rprivate /
mount --bind /tmp/.X11-unix /mnt
mount -t tmpfs tmpfs /tmp
if [ "$BIND" = 1 ]; then mkdir /tmp/.X11-unix; mount --bind /mnt /tmp/.X11-unix; mount -o remount,bind,ro /tmp/.X11-unix; fi
mount --bind /home /home; mount -o remount,bind,ro /home
mount --bind /var/tmp /var/tmp; mount -o remount,bind,ro /var/tmp
mount --bind / /; mount -o remount,bind,ro /
if touch /etc/reach-sandbox-probe 2>/dev/null; then echo "root is writable"; exit 3; fi
exec setpriv --no-new-privs --bounding-set "$CAPS" --inh-caps=-all "$BIN"`
		cmd := exec.Command("unshare", "-m", "sh", "-c", script)
		b := "0"
		if bindX11 {
			b = "1"
		}
		cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "BIND=" + b, "CAPS=" + caps, "BIN=" + bin,
			"DISPLAY=" + display, "XAUTHORITY=" + xauth, sandboxCaptureEnv + "=1"}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	tests := []struct {
		name string
		bind bool
		caps string
		want string
	}{
		{"as the unit says", true, "-all,+dac_read_search,+sys_ptrace", "captured"},
		{"PrivateTmp without the X11 bind", false, "-all,+dac_read_search,+sys_ptrace", "no such file"},
		{"without CAP_DAC_READ_SEARCH", true, "-all,+sys_ptrace", "authentication refused"},
	}
	for _, tt := range tests {
		out, err := sandbox(tt.bind, tt.caps)
		if !strings.Contains(out, tt.want) || (tt.want == "captured") != (err == nil) {
			t.Errorf("%s: %v\n%s", tt.name, err, out)
		}
	}
}

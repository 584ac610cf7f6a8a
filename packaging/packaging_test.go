package packaging

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/reachdesk/reach/installer"
)

// TestAgentUnit keeps the packaged agent unit equal to the installer's.
func TestAgentUnit(t *testing.T) {
	want := installer.Unit(installer.LinuxPackagedLayout(""))
	const golden = "systemd/reach-agent.service"
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
		t.Fatalf("%s differs from installer.Unit; run REACH_UPDATE_GOLDEN=1 go test ./packaging", golden)
	}
}

// TestUnitsVerify runs systemd-analyze verify on every unit, with
// ExecStart pointed at an existing binary (any message fails the test),
// and bounds systemd-analyze security's exposure score.
func TestUnitsVerify(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze not installed (scripts/setup.sh installs systemd)")
	}
	self, _ := os.Executable()
	units, _ := filepath.Glob("systemd/*.service")
	if len(units) != 3 {
		t.Fatalf("units: %v", units)
	}
	dir := t.TempDir()
	exec1 := regexp.MustCompile(`(?m)^ExecStart=(\S+)`)
	for _, u := range units {
		b, _ := os.ReadFile(u)
		b = exec1.ReplaceAll(b, []byte("ExecStart="+self))
		p := filepath.Join(dir, filepath.Base(u))
		os.WriteFile(p, b, 0o644)
		out, err := exec.Command("systemd-analyze", "verify", "--man=no", p).CombinedOutput()
		if err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Errorf("%s: %v\n%s", u, err, out)
		}
		// systemd's own exposure score (0 best, 10 worst): the agent must
		// run as root on the user's display, the servers need not.
		threshold := "20"
		if strings.Contains(u, "agent") {
			threshold = "30"
		}
		out, err = exec.Command("systemd-analyze", "security", "--offline=yes", "--no-pager", "--threshold="+threshold, p).CombinedOutput()
		if err != nil {
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			t.Errorf("%s: exposure above %s/100: %s", u, threshold, lines[len(lines)-1])
		}
	}
}

// TestServerUnits pins the server units' user and hardening.
func TestServerUnits(t *testing.T) {
	for _, c := range []string{"relay", "console"} {
		b, err := os.ReadFile("systemd/reach-" + c + ".service")
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range []string{
			"User=reach", "Group=reach", "EnvironmentFile=/etc/reach/" + c + ".conf",
			"StateDirectory=reach/" + c, "Restart=on-failure", "NoNewPrivileges=yes",
			"ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
			"CapabilityBoundingSet=CAP_NET_BIND_SERVICE", "AmbientCapabilities=CAP_NET_BIND_SERVICE",
		} {
			if !bytes.Contains(b, []byte("\n"+line+"\n")) {
				t.Errorf("reach-%s.service lacks %q", c, line)
			}
		}
	}
}

// TestScriptsParse checks every maintainer script with sh -n.
func TestScriptsParse(t *testing.T) {
	scripts, _ := filepath.Glob("scripts/*/*.sh")
	if len(scripts) != 9 {
		t.Fatalf("scripts: %v", scripts)
	}
	for _, s := range scripts {
		if out, err := exec.Command("sh", "-n", s).CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", s, err, out)
		}
	}
}

// built builds the packages once into a temporary directory.
func built(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binaries and the packages")
	}
	for _, tool := range []string{"dpkg-deb", "rpm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (scripts/setup.sh installs it)", tool)
		}
	}
	root, _ := filepath.Abs("..")
	out, bin := t.TempDir(), t.TempDir()
	build := func(env []string, pkgs ...string) {
		cmd := exec.Command("go", append([]string{"build", "-trimpath", "-o", bin + "/"}, pkgs...)...)
		cmd.Dir, cmd.Env = root, append(os.Environ(), env...)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %v: %v\n%s", pkgs, err, b)
		}
	}
	build([]string{"CGO_ENABLED=0"}, "./relay/cmd/reach-relay", "./console/cmd/reach-console")
	build(nil, "./agent/cmd/reach-agent")
	cmd := exec.Command("bash", "scripts/package.sh")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "BIN="+bin, "OUT="+out, "VERSION=v1.2.3")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("package.sh: %v\n%s", err, b)
	}
	return out
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	b, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, b)
	}
	return string(b)
}

// TestPackages builds the six packages and checks what each holds (paths,
// modes, owners), its metadata, conffiles and maintainer scripts.
func TestPackages(t *testing.T) {
	out := built(t)
	arch := runtime.GOARCH
	rpmArch := map[string]string{"amd64": "x86_64", "arm64": "aarch64"}[arch]
	want := map[string][]string{
		"agent": {
			"-rwxr-xr-x root/root /usr/bin/reach-agent",
			"-rw-r--r-- root/root /usr/lib/systemd/system/reach-agent.service",
			"-rw-r--r-- root/root /etc/xdg/autostart/reach-agent-ui.desktop",
		},
		"relay": {
			"-rwxr-xr-x root/root /usr/bin/reach-relay",
			"-rw-r--r-- root/root /usr/lib/systemd/system/reach-relay.service",
			"drwxr-xr-x root/root /etc/reach",
			"-rw-r----- root/root /etc/reach/relay.conf",
		},
		"console": {
			"-rwxr-xr-x root/root /usr/bin/reach-console",
			"-rw-r--r-- root/root /usr/lib/systemd/system/reach-console.service",
			"drwxr-xr-x root/root /etc/reach",
			"-rw-r----- root/root /etc/reach/console.conf",
		},
	}
	for c, files := range want {
		t.Run(c, func(t *testing.T) {
			deb := filepath.Join(out, "reach-"+c+"_1.2.3_"+arch+".deb")
			// dpkg-deb -c: every file with mode and owner, nothing else.
			var got []string
			for _, line := range strings.Split(strings.TrimSpace(run(t, "dpkg-deb", "-c", deb)), "\n") {
				f := strings.Fields(line)
				path := strings.TrimPrefix(strings.TrimSuffix(f[5], "/"), ".")
				if path == "" || (strings.HasPrefix(f[0], "d") && isParent(path, files)) {
					continue
				}
				got = append(got, f[0]+" "+f[1]+" "+path)
			}
			sort.Strings(got)
			wantSorted := append([]string(nil), files...)
			sort.Strings(wantSorted)
			if strings.Join(got, "\n") != strings.Join(wantSorted, "\n") {
				t.Errorf("dpkg-deb -c %s:\n%s\nwant:\n%s", filepath.Base(deb), strings.Join(got, "\n"), strings.Join(wantSorted, "\n"))
			}
			info := run(t, "dpkg-deb", "-I", deb)
			for _, w := range []string{"Package: reach-" + c, "Version: 1.2.3", "Architecture: " + arch, "postinst", "prerm", "postrm"} {
				if !strings.Contains(info, w) {
					t.Errorf("dpkg-deb -I lacks %q:\n%s", w, info)
				}
			}
			if c == "agent" && !strings.Contains(info, "libvpx7") {
				t.Errorf("agent .deb does not depend on libvpx7:\n%s", info)
			}
			ctl := t.TempDir()
			run(t, "dpkg-deb", "-e", deb, ctl)
			cf, _ := os.ReadFile(filepath.Join(ctl, "conffiles"))
			if c != "agent" && strings.TrimSpace(string(cf)) != "/etc/reach/"+c+".conf" {
				t.Errorf("conffiles = %q", cf)
			}
			postinst, _ := os.ReadFile(filepath.Join(ctl, "postinst"))
			if c != "agent" && !bytes.Contains(postinst, []byte("useradd --system")) {
				t.Errorf("postinst does not create the reach user:\n%s", postinst)
			}

			rpm := filepath.Join(out, "reach-"+c+"-1.2.3-1."+rpmArch+".rpm")
			list := strings.Fields(run(t, "rpm", "-qpl", rpm))
			var paths []string
			for _, f := range files {
				paths = append(paths, f[strings.LastIndex(f, " ")+1:])
			}
			sort.Strings(list)
			sort.Strings(paths)
			if strings.Join(list, " ") != strings.Join(paths, " ") {
				t.Errorf("rpm -qpl: %v, want %v", list, paths)
			}
			if c != "agent" {
				if cfg := strings.TrimSpace(run(t, "rpm", "-qpc", rpm)); cfg != "/etc/reach/"+c+".conf" {
					t.Errorf("rpm -qpc = %q", cfg)
				}
				if v := run(t, "rpm", "-qp", "--qf", "[%{FILEFLAGS:fflags} %{FILENAMES}\n]", rpm); !strings.Contains(v, "cn /etc/reach/"+c+".conf") {
					t.Errorf("config not noreplace:\n%s", v)
				}
			}
			scripts := run(t, "rpm", "-qp", "--scripts", rpm)
			for _, w := range []string{"postinstall scriptlet", "preuninstall scriptlet", "postuninstall scriptlet"} {
				if !strings.Contains(scripts, w) {
					t.Errorf("rpm lacks %s:\n%s", w, scripts)
				}
			}
		})
	}
}

// isParent reports whether dir is only a parent of the wanted paths (such
// as /usr or /usr/lib), which dpkg-deb lists but the package does not own.
func isParent(dir string, files []string) bool {
	for _, f := range files {
		p := f[strings.LastIndex(f, " ")+1:]
		if p == dir {
			return false
		}
	}
	return true
}

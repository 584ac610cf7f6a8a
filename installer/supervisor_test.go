package installer

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// supervisor stands in for a running systemd in tests (PID 1 in this
// container is not systemd): enable/disable run the real
// `systemctl --root`, which only manages symlinks; start/stop/restart run
// the unit's ExecStart under the root with its EnvironmentFile, restarting
// it on failure like Restart=on-failure; show reports the state.
type supervisor struct {
	t    *testing.T
	root string

	mu       sync.Mutex // guards the fields below
	cmd      *exec.Cmd
	done     chan struct{} // closed when cmd exits
	active   bool
	restarts int
	stopping bool
	calls    []string
}

func newSupervisor(t *testing.T, root string) *supervisor {
	s := &supervisor{t: t, root: root}
	t.Cleanup(func() { s.stop() })
	return s
}

func (s *supervisor) Systemctl(ctx context.Context, args ...string) (string, error) {
	s.mu.Lock()
	s.calls = append(s.calls, strings.Join(args, " "))
	s.mu.Unlock()
	switch args[0] {
	case "daemon-reload", "reset-failed":
		return "", nil
	case "enable", "disable":
		if args[0] == "disable" {
			s.stop()
		}
		out, err := exec.CommandContext(ctx, "systemctl", "--root="+s.root, args[0], args[len(args)-1]).CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("systemctl --root %s: %v: %s", args[0], err, out)
		}
		return "", nil
	case "start", "restart":
		s.stop()
		return "", s.start()
	case "stop":
		s.stop()
		return "", nil
	case "show":
		s.mu.Lock()
		defer s.mu.Unlock()
		state, sub, pid := "inactive", "dead", 0
		if s.active {
			state, sub, pid = "active", "running", s.cmd.Process.Pid
		}
		return fmt.Sprintf("ActiveState=%s\nSubState=%s\nMainPID=%d\nNRestarts=%d\n", state, sub, pid, s.restarts), nil
	}
	return "", fmt.Errorf("supervisor: unknown systemctl %q", args)
}

// unit reads ExecStart and EnvironmentFile of the installed unit.
func (s *supervisor) unit() (argv []string, env []string, err error) {
	b, err := os.ReadFile(filepath.Join(s.root, "etc/systemd/system", unitName))
	if err != nil {
		b, err = os.ReadFile(filepath.Join(s.root, "usr/lib/systemd/system", unitName))
	}
	if err != nil {
		return nil, nil, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, "=")
		switch k {
		case "ExecStart":
			argv = strings.Fields(v)
			argv[0] = filepath.Join(s.root, argv[0])
		case "EnvironmentFile":
			f, err := os.Open(filepath.Join(s.root, v))
			if err != nil {
				return nil, nil, err
			}
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				if l := sc.Text(); l != "" && !strings.HasPrefix(l, "#") {
					env = append(env, l)
				}
			}
			f.Close()
		}
	}
	return argv, env, nil
}

func (s *supervisor) start() error {
	argv, env, err := s.unit()
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.restarts = 0
	s.stopping = false
	return s.spawnLocked(argv, env)
}

func (s *supervisor) spawnLocked(argv, env []string) error {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(env, "PATH=/usr/bin:/bin", fakeAgentEnv+"=1")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	s.cmd, s.done, s.active = cmd, done, true
	go func() {
		err := cmd.Wait()
		s.mu.Lock()
		defer s.mu.Unlock()
		close(done)
		if s.cmd != cmd {
			return
		}
		s.active = false
		if s.stopping || err == nil {
			return
		}
		// Restart=on-failure, with a short RestartSec.
		time.AfterFunc(50*time.Millisecond, func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.cmd == cmd && !s.stopping {
				s.restarts++
				s.spawnLocked(argv, env)
			}
		})
	}()
	return nil
}

func (s *supervisor) stop() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.stopping = true
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		<-done
	}
	s.mu.Lock()
	s.active = false
	s.mu.Unlock()
}

package installer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// ErrRolledBack: the new binary was unhealthy and the previous one runs again.
var ErrRolledBack = errors.New("installer: upgrade rolled back")

// Upgrade replaces the installed binary with newBinary and restarts the
// service. The new binary must first answer `version` (so a corrupt or
// wrong-architecture file never replaces a working one); the swap is a
// rename in the binary's directory, so the path always holds a complete
// binary. If the service does not come up healthy, the previous binary is
// renamed back and restarted, and the error wraps ErrRolledBack and the
// reason.
func (in *Installer) Upgrade(ctx context.Context, newBinary string) error {
	l := in.layout
	if l.Packaged {
		return errors.New("installer: upgrade: the package manager owns this binary: upgrade the reach-agent package instead")
	}
	bin, prev := l.Path(l.Binary), l.Path(l.prevBinary())
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("installer: upgrade: the agent is not installed (%w)", err)
	}
	if err := preflight(ctx, newBinary); err != nil {
		return fmt.Errorf("installer: upgrade: %s is not a working reach-agent: %w", newBinary, err)
	}
	// Stage the new binary next to the old, keep the old as prev: both
	// renames stay on one file system, so neither can be half done.
	staged := bin + ".new"
	if err := copyFileAtomic(newBinary, staged, 0o755); err != nil {
		return fmt.Errorf("installer: upgrade: %w", err)
	}
	removeIfExists(prev)
	if err := os.Link(bin, prev); err != nil {
		if err := copyFileAtomic(bin, prev, 0o755); err != nil {
			removeIfExists(staged)
			return fmt.Errorf("installer: upgrade: keep previous binary: %w", err)
		}
	}
	if err := in.replace(ctx, staged, bin); err != nil {
		removeIfExists(staged)
		return fmt.Errorf("installer: upgrade: %w", err)
	}
	syncDir(filepath.Dir(bin))

	before, _ := in.svc.Status(ctx)
	err := in.svc.Restart(ctx)
	if err == nil {
		_, err = in.waitHealthy(ctx, before.PID)
	}
	if err == nil {
		removeIfExists(prev)
		in.log.Info("installer: upgraded", "binary", l.Binary)
		return nil
	}
	in.log.Error("installer: new binary unhealthy, rolling back", "err", err)

	// Roll back: rename the previous binary over the new one and restart.
	if rerr := in.replace(ctx, prev, bin); rerr != nil {
		return fmt.Errorf("installer: upgrade failed (%v) and rollback failed: %w", err, rerr)
	}
	syncDir(filepath.Dir(bin))
	mid, _ := in.svc.Status(ctx)
	if rerr := in.svc.Restart(ctx); rerr != nil {
		return fmt.Errorf("installer: upgrade failed (%v); previous binary restored but not restarted: %w", err, rerr)
	}
	if _, rerr := in.waitHealthy(ctx, mid.PID); rerr != nil {
		return fmt.Errorf("installer: upgrade failed (%v); previous binary restored but unhealthy too: %w", err, rerr)
	}
	return fmt.Errorf("%w: %w", ErrRolledBack, err)
}

// preflight runs `bin version` and expects "reach-agent ..." within 10 s.
func preflight(ctx context.Context, bin string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "version")
	cmd.Stdout = &out
	cmd.Env = []string{} // no REACH_AGENT_* settings: version needs none
	if err := cmd.Run(); err != nil {
		return err
	}
	if !strings.HasPrefix(out.String(), "reach-agent ") {
		return fmt.Errorf("`version` printed %q", strings.TrimSpace(out.String()))
	}
	return nil
}

// replace renames src over dst; when that fails (Windows refuses to
// replace a running executable) it stops the service and tries again.
func (in *Installer) replace(ctx context.Context, src, dst string) error {
	err := os.Rename(src, dst)
	if err == nil {
		return nil
	}
	if serr := in.svc.Stop(ctx); serr != nil {
		return err
	}
	return os.Rename(src, dst)
}

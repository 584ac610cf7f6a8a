package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/reachdesk/reach/installer"
	"github.com/reachdesk/reach/internal/buildinfo"
)

// runUpgrade swaps in a new agent binary, rolling back if it is unhealthy.
func runUpgrade(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("upgrade", "-binary PATH", stderr)
	bin := fs.String("binary", "", "the new reach-agent binary (required)")
	settle := fs.Duration("settle", 10*time.Second, "how long the new binary must run without restarting to count as healthy")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *bin == "" {
		fmt.Fprintln(stderr, "-binary is required")
		fs.Usage()
		return errUsage
	}
	if err := needAdmin("upgrade"); err != nil {
		return err
	}
	in, err := newInstaller(*settle, stderr)
	if err != nil {
		return err
	}
	err = in.Upgrade(ctx, *bin)
	if errors.Is(err, installer.ErrRolledBack) {
		fmt.Fprintln(stdout, "The new binary did not come up healthy; the previous one is running again.")
		return err
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Upgraded %s; the service is healthy.\n", in.Layout().Binary)
	return nil
}

// runVersion prints the version; upgrade runs it on a new binary first.
func runVersion(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if err := parse(newFlags("version", "", stderr), args); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "reach-agent", buildinfo.Version)
	return nil
}

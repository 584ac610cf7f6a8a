package main

import (
	"context"
	"fmt"
	"io"
)

// runUninstall removes the agent service and what install wrote.
func runUninstall(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("uninstall", "[-keep-config]", stderr)
	keep := fs.Bool("keep-config", false, "keep the config and the device identity (a later install reuses them without a token)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := needAdmin("uninstall"); err != nil {
		return err
	}
	in, err := newInstaller(0, stderr)
	if err != nil {
		return err
	}
	if err := in.Uninstall(ctx, *keep); err != nil {
		return err
	}
	l := in.Layout()
	if *keep {
		fmt.Fprintf(stdout, "Removed the Reach agent service and %s; kept %s and %s.\n", l.Binary, l.Config, l.StateDir)
	} else {
		fmt.Fprintf(stdout, "Removed the Reach agent: service, %s, %s and %s.\n", l.Binary, l.Config, l.StateDir)
		fmt.Fprintln(stdout, "The device stays listed in the console until an administrator deletes it.")
	}
	return nil
}

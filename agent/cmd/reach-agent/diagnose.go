package main

import (
	"context"
	"io"
	"os"

	"github.com/reachdesk/reach/agent/diag"
)

// runDiagnose runs the diagnostics and prints the results.
func runDiagnose(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("diagnose", "[-console URL] [-format json|table]", stderr)
	console := fs.String("console", os.Getenv("REACH_CONSOLE_URL"),
		"console URL to test reachability of (default $REACH_CONSOLE_URL; empty skips the console check)")
	format := fs.String("format", "table", "output format: table (for people) or json")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := oneOf(fs, "format", *format, "json", "table"); err != nil {
		return err
	}
	rep := diag.New(diag.Options{ConsoleURL: *console, Logger: logger(stderr)}).Run(ctx)
	if *format == "json" {
		return writeJSON(stdout, rep)
	}
	return diag.WriteTable(stdout, rep)
}

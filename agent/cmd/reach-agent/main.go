// Command reach-agent is the Reach endpoint agent.
//
// Usage:
//
//	reach-agent <command> [flags]
//
// Commands:
//
//	inventory   print this device's inventory (no enrollment needed)
//	diagnose    run the diagnostics and print the results
//	enroll      register this device with the console
//	join CODE   join an attended session with the code the technician reads out
//	serve       stay connected to the relay for unattended sessions
//	ui          the signed-in user's consent window for the installed service
//	quick       get help once without installing (ephemeral key, nothing stored)
//	install     install as a service and enroll; uninstall, upgrade, status
//	service     run under launchd or the Windows service manager
//	version     print the version
//
// Run "reach-agent <command> -h" for a command's flags. main only parses
// flags and calls into the agent's packages.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// command is one subcommand; new ones (enroll, install) are an
// entry in commands and a function in their own file.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"inventory", "print this device's inventory (no enrollment needed)", runInventory},
		{"diagnose", "run the diagnostics and print the results", runDiagnose},
		{"join", "join a technician's session with the code they gave you", runJoin},
		{"enroll", "register this device with the console (token from a file or $REACH_ENROLL_TOKEN)", runEnroll},
		{"serve", "stay connected for unattended sessions", runServe},
		{"ui", "show the installed service's consent questions to the signed-in user (autostarted)", runUI},
		{"quick", "get help once, without installing: enter the technician's code", runQuick},
		{"install", "install as a service and enroll with the console (root)", runInstall},
		{"uninstall", "remove the service and what install wrote (root)", runUninstall},
		{"upgrade", "replace the installed binary, rolling back if unhealthy (root)", runUpgrade},
		{"status", "show the installed service's state", runStatus},
		{"service", "run under launchd or the Windows service manager (install sets it up)", runService},
		{"version", "print the version", runVersion},
	}
}

// errUsage marks a usage error; the command has already printed why.
var errUsage = errors.New("usage")

// run dispatches to a command and returns the process exit code: 0 on
// success, 1 when the command failed, 2 on a usage error.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		switch {
		case err == nil, errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2
		}
		fmt.Fprintf(stderr, "reach-agent %s: %v\n", c.name, err)
		return 1
	}
	fmt.Fprintf(stderr, "reach-agent: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "Usage: reach-agent <command> [flags]\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun \"reach-agent <command> -h\" for a command's flags.\n")
}

// newFlags returns a flag set for a command that reports errors on stderr.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: reach-agent %s %s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args, mapping flag errors to errUsage.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected arguments: %q\n", fs.Args())
		fs.Usage()
		return errUsage
	}
	return nil
}

// oneOf checks a flag's value against the allowed ones.
func oneOf(fs *flag.FlagSet, name, value string, allowed ...string) error {
	for _, a := range allowed {
		if value == a {
			return nil
		}
	}
	fmt.Fprintf(fs.Output(), "-%s must be one of %q, not %q\n", name, allowed, value)
	fs.Usage()
	return errUsage
}

// logger logs warnings and errors to stderr; results go to stdout.
func logger(stderr io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

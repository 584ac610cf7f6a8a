package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/reachdesk/reach/installer"
	"github.com/reachdesk/reach/internal/envflag"
)

// enroller enrolls the device during install (agent/enroll); nil until it
// is wired in, and install then needs an already enrolled state directory.
var enroller installer.Enroller

// maxTokenSize bounds a token read from a file or stdin.
const maxTokenSize = 4 << 10

// newInstaller returns the installer for this system.
func newInstaller(settle time.Duration, stderr io.Writer) (*installer.Installer, error) {
	svc, err := installer.PlatformServices()
	if err != nil {
		return nil, err
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return installer.New(installer.DetectLayout("", exe), svc, installer.Options{
		Enroller: enroller, Settle: settle, Logger: logger(stderr),
	}), nil
}

// needAdmin refuses to change the system without root.
func needAdmin(cmd string) error {
	if runtime.GOOS != "windows" && os.Geteuid() != 0 {
		return fmt.Errorf("%s changes the system: run it as root (sudo reach-agent %s ...)", cmd, cmd)
	}
	return nil
}

// runInstall installs the agent as a service, enrolled with the console.
func runInstall(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("install", "-server URL [-token-file FILE | env "+enrollTokenEnv+"] [flags]", stderr)
	var (
		server     = fs.String("server", "", "console URL, e.g. https://help.example.com (required)")
		token      = fs.String("token", "", "enrollment token; prefer -token-file or "+enrollTokenEnv+": the command line is visible to every user")
		tokenFile  = fs.String("token-file", "", "file holding the enrollment token; - reads standard input")
		unattended = fs.String("unattended", "consent", "unattended connects: consent (the logged-in user must allow each one) or allow (technicians whose role permits it connect without asking)")
		relay      = fs.String("relay", "", "relay URL (wss://...); default: the one the console gives at enrollment")
		display    = fs.String("display", ":0", "X display the agent shares")
		xauth      = fs.String("xauthority", "", "X authority file of that display, e.g. /run/user/1000/gdm/Xauthority")
		reenroll   = fs.Bool("reenroll", false, "enroll again even though this device has an identity (e.g. to move it to another console)")
		settle     = fs.Duration("settle", 10*time.Second, "how long the service must run without restarting to count as healthy")
	)
	if err := envflag.Parse(fs, "REACH_AGENT", args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	u, err := installer.ParseUnattended(*unattended)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return errUsage
	}
	if *server == "" {
		fmt.Fprintln(stderr, "-server is required: the console's URL")
		fs.Usage()
		return errUsage
	}
	tok, err := readToken(*token, *tokenFile, argvHas(args, "token"), stdin, stderr)
	if err != nil {
		return err
	}
	if tok == "" {
		tok = strings.TrimSpace(os.Getenv(enrollTokenEnv))
	}
	if err := needAdmin("install"); err != nil {
		return err
	}
	in, err := newInstaller(*settle, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "Installing the Reach agent...")
	res, err := in.Install(ctx, installer.InstallRequest{
		Config: installer.Config{Server: *server, Relay: *relay, Unattended: u, Display: *display, XAuthority: *xauth},
		Token:  tok, Reenroll: *reenroll,
	})
	if errors.Is(err, installer.ErrUnhealthy) {
		fmt.Fprintf(stdout, "Installed, but the service is not healthy; its log: journalctl -u %s -n 50\n", installer.ServiceName)
	}
	if err != nil {
		return err
	}
	l := in.Layout()
	if res.Enrolled {
		fmt.Fprintf(stdout, "Enrolled with %s.\n", *server)
	} else {
		fmt.Fprintf(stdout, "Kept this device's enrollment (%s).\n", l.StateDir)
	}
	fmt.Fprintf(stdout, "Installed %s, config %s; service %s is %s.\n", l.Binary, l.Config, installer.ServiceName, res.Status.State)
	return nil
}

// readToken picks the enrollment token from -token-file, else -token (or
// REACH_AGENT_TOKEN through envflag); callers fall back to
// REACH_ENROLL_TOKEN. fromArgv warns that argv is public.
func readToken(flagValue, file string, fromArgv bool, in io.Reader, stderr io.Writer) (string, error) {
	if file != "" {
		var r io.Reader = in
		if file != "-" {
			f, err := os.Open(file)
			if err != nil {
				return "", fmt.Errorf("token file: %w", err)
			}
			defer f.Close()
			r = f
		}
		b, err := io.ReadAll(io.LimitReader(r, maxTokenSize+1))
		if err != nil {
			return "", fmt.Errorf("token file: %w", err)
		}
		if len(b) > maxTokenSize {
			return "", fmt.Errorf("token file %s is larger than %d bytes: not a token", file, maxTokenSize)
		}
		tok := strings.TrimSpace(string(b))
		if tok == "" {
			return "", fmt.Errorf("token file %s is empty", file)
		}
		return tok, nil
	}
	if fromArgv {
		fmt.Fprintln(stderr, "warning: a token on the command line is visible to other users; use -token-file or "+enrollTokenEnv)
	}
	return strings.TrimSpace(flagValue), nil
}

// argvHas reports whether flag name was given on the command line.
func argvHas(args []string, name string) bool {
	for _, a := range args {
		a = strings.TrimLeft(a, "-")
		if a == name || strings.HasPrefix(a, name+"=") {
			return true
		}
	}
	return false
}

// runStatus prints the installed agent's service state and settings.
func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("status", "", stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	l := installer.DefaultLayout("")
	c, err := installer.ReadConfig(l.Config)
	if err != nil {
		return fmt.Errorf("not installed? %w", err)
	}
	svc, err := installer.PlatformServices()
	if err != nil {
		return err
	}
	st, err := svc.Status(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "service:    %s (pid %d, %d restarts)\nserver:     %s\nunattended: %s\nstate:      %s\n",
		st.State, st.PID, st.Restarts, c.Server, c.Unattended, l.StateDir)
	if !st.Active {
		return errors.New("the agent service is not running")
	}
	return nil
}

// runService runs serve under the OS's service manager (launchd, Windows)
// with the config file as its environment; systemd runs serve directly.
func runService(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("service", "-config FILE", stderr)
	config := fs.String("config", installer.DefaultLayout("").Config, "agent config file written by install")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := installer.LoadEnv(*config); err != nil {
		return err
	}
	return installer.RunService(ctx, func(ctx context.Context) error {
		return runServe(ctx, nil, stdout, stderr)
	})
}

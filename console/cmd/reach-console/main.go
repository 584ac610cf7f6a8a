// Command reach-console is the help desk's service: `serve` runs the console
// (REST API, agent API, web UI) on SQLite in its data directory or on
// PostgreSQL (DSN from REACH_CONSOLE_DB or -db-file, never the command
// line); `keys` creates the token-signing key pair, `token` issues a token
// for scripts and tests. Every flag can also be set as REACH_CONSOLE_<FLAG>.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/reachdesk/reach/console/signing"
	"github.com/reachdesk/reach/internal/buildinfo"
	"github.com/reachdesk/reach/internal/envflag"
	"github.com/reachdesk/reach/proto"
)

const usage = `usage: reach-console <command> [flags]

commands:
  serve    run the console (first start prints the first admin's one-time password)
  demo     seed a SQLite console for a demo and write a one-use enrollment token (make run)
  keys     create the token-signing key pair (if missing) and print the public key file
  token    issue a signed token (prints it on stdout)
  version  print the version
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "reach-console:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return fmt.Errorf("no command")
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], os.Stdout)
	case "demo":
		return demo(ctx, args[1:])
	case "keys":
		return keys(args[1:])
	case "token":
		return token(args[1:])
	case "version":
		fmt.Println("reach-console", buildinfo.Version)
		return nil
	}
	fmt.Fprint(os.Stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

func keys(args []string) error {
	fs := flag.NewFlagSet("keys", flag.ContinueOnError)
	dir := fs.String("dir", "/var/lib/reach/console/keys", "directory of the signing key pair")
	if err := envflag.Parse(fs, "REACH_CONSOLE", args); err != nil {
		return err
	}
	if _, err := signing.LoadOrCreate(*dir); err != nil {
		return err
	}
	fmt.Println(filepath.Join(*dir, signing.PublicKeyFile))
	return nil
}

func token(args []string) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	var (
		dir    = fs.String("dir", "/var/lib/reach/console/keys", "directory of the signing key pair")
		kind   = fs.String("kind", "technician", "technician, device or service")
		sub    = fs.String("sub", "", "subject: user, device or service id (required)")
		name   = fs.String("name", "", "display name")
		org    = fs.String("org", "", "organisation")
		perms  = fs.String("perms", "view,control", "comma-separated permissions (technician)")
		ticket = fs.String("ticket", "", "ticket id the session is for (technician)")
		device = fs.String("device", "", "device an unattended connect may target (technician)")
		ttl    = fs.Duration("ttl", time.Hour, "lifetime")
		aud    = fs.String("aud", proto.AudienceRelay, "audience")
	)
	if err := envflag.Parse(fs, "REACH_CONSOLE", args); err != nil {
		return err
	}
	key, err := signing.LoadOrCreate(*dir)
	if err != nil {
		return err
	}
	c := proto.Claims{Kind: proto.Kind(*kind), Name: *name, Org: *org, Device: *device}
	c.Subject = *sub
	if c.Kind == proto.KindTechnician {
		for _, p := range strings.Split(*perms, ",") {
			if p = strings.TrimSpace(p); p != "" {
				c.Permissions = append(c.Permissions, proto.Permission(p))
			}
		}
		if *ticket != "" {
			c.Ticket = &proto.TicketRef{ID: *ticket}
		}
	}
	tok, err := signing.New(key, nil).Issue(c, *aud, *ttl)
	if err != nil {
		return err
	}
	fmt.Println(tok)
	return nil
}

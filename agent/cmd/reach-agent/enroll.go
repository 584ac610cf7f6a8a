package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/reachdesk/reach/agent/enroll"
	"github.com/reachdesk/reach/agent/inventory"
	"github.com/reachdesk/reach/agent/report"
	"github.com/reachdesk/reach/internal/envflag"
	inv "github.com/reachdesk/reach/proto/inventory"
)

// enrollTokenEnv holds the enrollment token for `reach-agent enroll`; the
// command line is visible to every user of the machine (ps), the
// environment and a file are not.
const enrollTokenEnv = "REACH_ENROLL_TOKEN"

func init() { enroller = agentEnroller{} }

// runEnroll registers this device with the console.
func runEnroll(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("enroll", "-server URL [-token-file FILE | env "+enrollTokenEnv+"] [flags]", stderr)
	var (
		server    = fs.String("server", "", "console URL, e.g. https://help.example.com (required)")
		token     = fs.String("token", "", "enrollment token; prefer -token-file or "+enrollTokenEnv+": the command line is visible to every user (ps)")
		tokenFile = fs.String("token-file", "", "file holding the enrollment token; - reads standard input")
		state     = fs.String("state", "/var/lib/reach-agent", "state directory for the device identity (created 0700)")
		force     = fs.Bool("force", false, "enroll again although this device is enrolled (it gets a new identity)")
		noInv     = fs.Bool("no-inventory", false, "do not send the first inventory with the enrollment")
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
	if tok == "" {
		fmt.Fprintln(stderr, "an enrollment token is required: -token-file FILE or "+enrollTokenEnv)
		return errUsage
	}
	res, err := enrollDevice(ctx, *server, tok, *state, *force, !*noInv, logger(stderr))
	if err != nil {
		return err
	}
	st := res.State
	fmt.Fprintf(stdout, "Enrolled as device %d with %s; identity in %s.\n", st.DeviceID, st.Server, st.Dir)
	if res.Inventory == nil && !*noInv {
		fmt.Fprintln(stdout, "The first inventory was not accepted; `reach-agent serve` sends it again.")
	}
	return nil
}

// enrollDevice collects the first inventory (if asked), enrolls, and
// records the inventory state the console acknowledged.
func enrollDevice(ctx context.Context, server, token, dir string, force, withInventory bool, log *slog.Logger) (*enroll.Result, error) {
	// Refuse early, before spending seconds on an inventory.
	if ok, err := enroll.Enrolled(dir); err != nil {
		return nil, err
	} else if ok && !force {
		if st, err := enroll.Load(dir); err == nil {
			return nil, fmt.Errorf("%w (device %d at %s)", enroll.ErrAlreadyEnrolled, st.DeviceID, st.Server)
		}
		return nil, enroll.ErrAlreadyEnrolled
	}
	var rep *inv.Report
	var raw []byte
	if withInventory {
		var err error
		if rep, err = inventory.New(inventory.Options{Logger: log}).Collect(ctx); err != nil {
			return nil, fmt.Errorf("collect inventory: %w", err)
		}
		if raw, err = json.Marshal(rep); err != nil {
			return nil, fmt.Errorf("encode inventory: %w", err)
		}
	}
	res, err := enroll.Enroll(ctx, enroll.Options{Server: server, Token: token, Dir: dir, Force: force, Inventory: raw})
	if err != nil {
		return nil, err
	}
	if rep != nil && res.Inventory != nil && res.Inventory.State == inv.StateHash(rep.Hashes) {
		if err := report.SaveAcked(dir, res.State.DeviceID, rep.Hashes); err != nil {
			log.Warn("enroll: record the first inventory", "err", err)
		}
	} else if err := report.SaveAcked(dir, res.State.DeviceID, nil); err != nil {
		log.Warn("enroll: reset the inventory state", "err", err)
	}
	return res, nil
}

// agentEnroller lets `reach-agent install` enroll (installer.Enroller).
type agentEnroller struct{}

func (agentEnroller) Enrolled(stateDir string) (bool, error) { return enroll.Enrolled(stateDir) }

func (agentEnroller) Enroll(ctx context.Context, server, token, stateDir string, replace bool) error {
	_, err := enrollDevice(ctx, server, token, stateDir, replace, true, slog.Default())
	return err
}

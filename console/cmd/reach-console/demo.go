package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/reachdesk/reach/console"
	"github.com/reachdesk/reach/console/api"
	"github.com/reachdesk/reach/console/auth"
	"github.com/reachdesk/reach/console/sla"
	"github.com/reachdesk/reach/console/sqlite"
	"github.com/reachdesk/reach/internal/envflag"
)

// demoGroup is the device group `demo` enrolls the demo agent into.
const demoGroup = "Demo devices"

// demo seeds a console's SQLite database for `make run`: a device group
// technicians may fully control, a default SLA policy, a few tickets, and a
// fresh one-use enrollment token written to -token-file (0600). It creates
// no user, so that `serve` still bootstraps the first admin, and it is
// idempotent apart from the new token.
func demo(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	data := fs.String("data", "", "the console's data directory (SQLite)")
	tokenFile := fs.String("token-file", "", "file to write a new enrollment token to (0600)")
	if err := envflag.Parse(fs, "REACH_CONSOLE", args); err != nil {
		return err
	}
	if *data == "" || *tokenFile == "" {
		return fmt.Errorf("demo: -data and -token-file are required")
	}
	if err := os.MkdirAll(*data, 0o700); err != nil {
		return err
	}
	st, err := sqlite.Open(ctx, filepath.Join(*data, "console.db"), sqlite.Options{})
	if err != nil {
		return err
	}
	defer st.Close()

	group, err := demoDeviceGroup(ctx, st)
	if err != nil {
		return err
	}
	policy, err := demoSLAPolicy(ctx, st)
	if err != nil {
		return err
	}
	if err := demoTickets(ctx, st, policy); err != nil {
		return err
	}

	secret, err := auth.NewSecret()
	if err != nil {
		return err
	}
	secret = api.EnrollmentTokenPrefix + secret
	tok := &console.EnrollmentToken{GroupID: group.ID, Name: "make run demo agent", SecretHash: auth.HashSecret(secret),
		ExpiresAt: time.Now().Add(time.Hour), MaxUses: 1}
	if err := st.CreateEnrollmentToken(ctx, tok); err != nil {
		return err
	}
	return writeSecretFile(*tokenFile, secret)
}

func demoDeviceGroup(ctx context.Context, st console.Store) (*console.DeviceGroup, error) {
	groups, err := st.FindDeviceGroups(ctx)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		if g.Name == demoGroup {
			return g, nil
		}
	}
	g := &console.DeviceGroup{Name: demoGroup, Description: "The agent `make run` starts on a virtual display"}
	if err := st.CreateDeviceGroup(ctx, g); err != nil {
		return nil, err
	}
	if err := st.SetGrant(ctx, &console.Grant{GroupID: g.ID, Role: console.RoleTechnician, Permissions: console.PermAll}); err != nil {
		return nil, err
	}
	return g, st.SetGrant(ctx, &console.Grant{GroupID: g.ID, Role: console.RoleViewer, Permissions: console.PermView})
}

func demoSLAPolicy(ctx context.Context, st console.Store) (*console.SLAPolicy, error) {
	p, err := st.FindDefaultSLAPolicy(ctx)
	if console.ErrorCode(err) != console.CodeNotFound {
		return p, err
	}
	h := time.Hour
	p = &console.SLAPolicy{Name: "Standard", Default: true, Targets: map[console.Priority]console.SLATarget{
		console.P1: {FirstResponse: 30 * time.Minute, Resolution: 4 * h},
		console.P2: {FirstResponse: 2 * h, Resolution: 8 * h},
		console.P3: {FirstResponse: 4 * h, Resolution: 24 * h},
		console.P4: {FirstResponse: 8 * h, Resolution: 72 * h},
	}}
	return p, st.CreateSLAPolicy(ctx, p)
}

func demoTickets(ctx context.Context, st console.Store, policy *console.SLAPolicy) error {
	n, err := st.CountTickets(ctx, console.TicketFilter{})
	if err != nil || n > 0 {
		return err
	}
	for _, t := range []*console.Ticket{
		{Title: "VPN drops every few minutes", Description: "Since this morning the VPN disconnects about every five minutes.",
			Requester: console.Requester{Name: "Grace Hopper", Email: "grace@example.com", Phone: "+1 555 0100"},
			Channel:   console.ChannelPhone, Category: "Network", Priority: console.P2},
		{Title: "Printer on floor 2 prints blank pages", Requester: console.Requester{Name: "Alan Turing", Email: "alan@example.com"},
			Channel: console.ChannelEmail, Category: "Hardware", Priority: console.P3},
		{Title: "Cannot open the payroll spreadsheet", Requester: console.Requester{Name: "Katherine Johnson", Email: "katherine@example.com"},
			Channel: console.ChannelPortal, Category: "Software", Priority: console.P1},
	} {
		t.Status, t.Level, t.SLAPolicyID, t.CreatedAt = console.StatusNew, console.L1, policy.ID, time.Now()
		sla.Start(policy, t)
		if err := st.CreateTicket(ctx, t); err != nil {
			return err
		}
	}
	return nil
}

// writeSecretFile writes secret to path with owner-only permissions.
func writeSecretFile(path, secret string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(secret + "\n"); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

package inventory

import (
	"context"
	"runtime"
	"time"

	"github.com/shirou/gopsutil/v3/host"

	inv "github.com/reachdesk/reach/proto/inventory"
)

// users collects logged-in sessions (gopsutil reads utmp) and the platform's
// local accounts.
func (c *Collector) users(ctx context.Context) *inv.Users {
	u := &inv.Users{Status: inv.Known(runtime.GOOS)}
	u.Sessions = c.sessions(ctx)
	u.Accounts = c.accounts(ctx)
	return u
}

func (c *Collector) sessions(ctx context.Context) inv.Sessions {
	stats, err := host.UsersWithContext(ctx)
	if err != nil {
		return inv.Sessions{Status: inv.Unknown(why("logged-in users (utmp)", err))}
	}
	s := inv.Sessions{Status: inv.Known("utmp"), Sessions: []inv.Session{}}
	for _, st := range stats {
		if st.User == "" || len(s.Sessions) == inv.MaxSessions {
			continue
		}
		var started time.Time
		if st.Started > 0 {
			started = time.Unix(int64(st.Started), 0).UTC()
		}
		s.Sessions = append(s.Sessions, inv.Session{User: clean(st.User, inv.MaxShort),
			Terminal: clean(st.Terminal, inv.MaxShort), Host: clean(st.Host, inv.MaxName), Started: started})
	}
	return s
}

package inventory

import (
	"context"
	"runtime"
	"slices"
	"sync"

	inv "github.com/reachdesk/reach/proto/inventory"
)

// security collects the firewall state and reboot flag under c.timeout and,
// concurrently, the pending updates under the caller's (longer) deadline.
func (c *Collector) security(ctx context.Context) *inv.Security {
	s := &inv.Security{Status: inv.Known(runtime.GOOS)}
	var wg sync.WaitGroup
	wg.Go(func() { s.Updates = c.pendingUpdates(ctx) })
	fast, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	s.Firewall = c.firewall(fast)
	s.Reboot = c.Reboot(fast)
	wg.Wait()
	return s
}

// updatesCache keeps the last pending-updates result while the package
// database and indexes are unchanged: the check runs the package manager's
// solver (seconds), its inputs change a few times a day.
type updatesCache struct {
	mu  sync.Mutex // guards key and val; held during a check, so concurrent collections wait for one
	key string     // fingerprint of the inputs; "" caches nothing
	val inv.Updates
}

// pendingUpdates returns the cached result when the platform's fingerprint
// of the package state is unchanged, and checks otherwise. Only successful
// checks are cached.
func (c *Collector) pendingUpdates(ctx context.Context) inv.Updates {
	key := c.updatesKey()
	c.updates.mu.Lock()
	defer c.updates.mu.Unlock()
	if key == "" || key != c.updates.key {
		u := c.checkUpdates(ctx)
		if !u.Status.OK {
			return u
		}
		c.updates.key, c.updates.val = key, u
	}
	u := c.updates.val
	u.Packages = slices.Clone(u.Packages) // the report is normalized in place
	return u
}

package inventory

import (
	"context"
	"math"

	"github.com/shirou/gopsutil/v3/cpu"

	inv "github.com/reachdesk/reach/proto/inventory"
)

// cpu collects the CPU section from gopsutil.
func (c *Collector) cpu(ctx context.Context) *inv.CPU {
	infos, err := cpu.InfoWithContext(ctx)
	if err != nil || len(infos) == 0 {
		return unknownCPU(why("gopsutil cpu", err))
	}
	out := &inv.CPU{Status: inv.Known("gopsutil"), Model: clean(infos[0].ModelName, inv.MaxName),
		Vendor: clean(infos[0].VendorID, inv.MaxShort)}
	sockets := map[string]bool{}
	var mhz float64
	for _, i := range infos {
		sockets[i.PhysicalID] = true
		mhz = math.Max(mhz, i.Mhz)
	}
	out.Sockets = len(sockets)
	out.MHz = int(math.Round(mhz))
	if n, err := cpu.CountsWithContext(ctx, true); err == nil {
		out.Threads = n
	}
	if n, err := cpu.CountsWithContext(ctx, false); err == nil {
		out.Cores = n
	}
	return out
}

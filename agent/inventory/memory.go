package inventory

import (
	"context"

	"github.com/shirou/gopsutil/v3/mem"

	inv "github.com/reachdesk/reach/proto/inventory"
)

// memory collects totals from gopsutil and the modules from the platform.
func (c *Collector) memory(ctx context.Context) *inv.Memory {
	m := &inv.Memory{Status: inv.Known("gopsutil")}
	vm, err := mem.VirtualMemoryWithContext(ctx)
	if err != nil {
		m.Status = inv.Unknown(why("gopsutil memory", err))
	} else {
		m.TotalBytes = vm.Total
	}
	if sw, err := mem.SwapMemoryWithContext(ctx); err == nil {
		m.SwapBytes = sw.Total
	}
	m.Slots = c.memorySlots(ctx)
	return m
}

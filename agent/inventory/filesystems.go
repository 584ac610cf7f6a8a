package inventory

import (
	"context"
	"fmt"
	"slices"

	"github.com/shirou/gopsutil/v3/disk"

	inv "github.com/reachdesk/reach/proto/inventory"
)

// Filesystems returns the mounted local filesystems and their usage
// (gopsutil; network and pseudo filesystems are left out, so a hung NFS
// server cannot stall collection).
func (c *Collector) Filesystems(ctx context.Context) *inv.Filesystems {
	parts, err := disk.PartitionsWithContext(ctx, false)
	if err != nil && len(parts) == 0 {
		return unknownFilesystems(why("gopsutil partitions", err))
	}
	out := &inv.Filesystems{Status: inv.Known("gopsutil")}
	seen := map[string]bool{}
	var failed []string
	for _, p := range parts {
		if seen[p.Mountpoint] || len(out.Filesystems) == inv.MaxFilesystems {
			continue
		}
		seen[p.Mountpoint] = true
		u, err := disk.UsageWithContext(ctx, p.Mountpoint)
		if err != nil {
			failed = append(failed, p.Mountpoint)
			continue
		}
		out.Filesystems = append(out.Filesystems, inv.Filesystem{
			Mount:      clean(p.Mountpoint, inv.MaxLong),
			Device:     clean(p.Device, inv.MaxLong),
			Type:       clean(p.Fstype, inv.MaxShort),
			TotalBytes: u.Total,
			UsedBytes:  u.Used,
			FreeBytes:  u.Free,
			ReadOnly:   slices.Contains(p.Opts, "ro"),
		})
	}
	if len(failed) > 0 {
		out.Status.Reason = clip(fmt.Sprintf("usage unreadable for %d mounts: %v", len(failed), failed), inv.MaxLong)
	}
	return out
}

package inventory

import (
	"cmp"
	"slices"
	"strings"
)

// Normalize puts the sections in canonical form so that equal inventories
// hash equally: lists that are sets are sorted by their key and times are in
// UTC. Ordered lists (DNS servers, search domains, gateways, reboot reasons)
// keep their order: it carries meaning.
func (s *Sections) Normalize() {
	if s.OS != nil {
		s.OS.BootTime = s.OS.BootTime.UTC()
	}
	if s.Memory != nil {
		slices.SortFunc(s.Memory.Slots.Modules, func(a, b MemoryModule) int { return strings.Compare(a.Locator, b.Locator) })
	}
	if s.Disks != nil {
		slices.SortFunc(s.Disks.Disks, func(a, b Disk) int { return strings.Compare(a.Name, b.Name) })
	}
	if s.Filesystems != nil {
		slices.SortFunc(s.Filesystems.Filesystems, func(a, b Filesystem) int {
			return cmp.Or(strings.Compare(a.Mount, b.Mount), strings.Compare(a.Device, b.Device))
		})
	}
	if s.Network != nil {
		slices.SortFunc(s.Network.Interfaces, func(a, b Interface) int { return strings.Compare(a.Name, b.Name) })
		for i := range s.Network.Interfaces {
			slices.Sort(s.Network.Interfaces[i].Addresses)
		}
	}
	if s.Displays != nil {
		slices.SortFunc(s.Displays.Displays, func(a, b Display) int {
			return cmp.Or(cmp.Compare(a.Y, b.Y), cmp.Compare(a.X, b.X), strings.Compare(a.Name, b.Name))
		})
	}
	if s.GPUs != nil {
		slices.SortFunc(s.GPUs.GPUs, func(a, b GPU) int {
			return cmp.Or(strings.Compare(a.Slot, b.Slot), strings.Compare(a.Model, b.Model))
		})
	}
	if s.Batteries != nil {
		slices.SortFunc(s.Batteries.Batteries, func(a, b Battery) int { return strings.Compare(a.Name, b.Name) })
	}
	if s.Users != nil {
		for i := range s.Users.Sessions.Sessions {
			s.Users.Sessions.Sessions[i].Started = s.Users.Sessions.Sessions[i].Started.UTC()
		}
		slices.SortFunc(s.Users.Sessions.Sessions, func(a, b Session) int {
			return cmp.Or(strings.Compare(a.User, b.User), strings.Compare(a.Terminal, b.Terminal), a.Started.Compare(b.Started))
		})
		slices.SortFunc(s.Users.Accounts.Accounts, func(a, b Account) int {
			return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.ID, b.ID))
		})
	}
	if s.Software != nil {
		slices.SortFunc(s.Software.Sources, func(a, b SourceStatus) int { return strings.Compare(string(a.Source), string(b.Source)) })
		for i := range s.Software.Packages {
			s.Software.Packages[i].InstallDate = s.Software.Packages[i].InstallDate.UTC()
		}
		slices.SortFunc(s.Software.Packages, func(a, b Package) int {
			return cmp.Or(strings.Compare(string(a.Source), string(b.Source)), strings.Compare(a.Name, b.Name),
				strings.Compare(a.Arch, b.Arch), strings.Compare(a.Version, b.Version))
		})
	}
	if s.Services != nil {
		slices.SortFunc(s.Services.Services, func(a, b Service) int { return strings.Compare(a.Name, b.Name) })
	}
	if s.Security != nil {
		slices.Sort(s.Security.Updates.Packages)
	}
}

package inventory

import (
	"fmt"
	"io"
	"reflect"
	"strings"
	"text/tabwriter"
	"time"

	inv "github.com/reachdesk/reach/proto/inventory"
)

// WriteTable writes a report as aligned plain-text tables, one block per
// section, for people reading `reach-agent inventory --format table`.
// Unknown values are shown with their reason.
func WriteTable(w io.Writer, r *inv.Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	p := &printer{w: tw}
	p.header(r)
	p.os(r.OS, r.CollectedAt)
	p.hardware(r.Hardware)
	p.cpuMemory(r.CPU, r.Memory)
	p.storage(r.Disks, r.Filesystems)
	p.network(r.Network)
	p.devices(r.Displays, r.GPUs, r.Batteries)
	p.users(r.Users)
	p.software(r.Software)
	p.services(r.Services)
	p.security(r.Security)
	if p.err != nil {
		return fmt.Errorf("inventory: write table: %w", p.err)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("inventory: write table: %w", err)
	}
	return nil
}

// printer writes tab-separated rows, keeping the first error.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) row(cols ...string) {
	if p.err == nil {
		_, p.err = fmt.Fprintln(p.w, strings.Join(cols, "\t"))
	}
}

// title starts a section; it returns false (after printing the reason) when
// the section is absent or unknown.
func (p *printer) title(name string, present bool, st inv.Status) bool {
	p.row()
	switch {
	case !present:
		p.row(name, "not collected")
		return false
	case !st.OK:
		p.row(name, "unknown: "+st.Reason)
		return false
	}
	p.row(name + note(st))
	return true
}

// part prints the reason of a part that is unknown and returns false.
func (p *printer) part(name string, st inv.Status) bool {
	if !st.OK {
		p.row("  "+name, "unknown: "+st.Reason)
		return false
	}
	return true
}

// note is a known status's remark on partial data, in parentheses.
func note(st inv.Status) string {
	if st.Reason != "" {
		return " (" + st.Reason + ")"
	}
	return ""
}

func (p *printer) kv(key string, vals ...string) {
	var parts []string
	for _, v := range vals {
		if v != "" {
			parts = append(parts, v)
		}
	}
	if len(parts) > 0 {
		p.row("  "+key, strings.Join(parts, " "))
	}
}

func (p *printer) header(r *inv.Report) {
	id := r.DeviceID
	if id == "" {
		id = "not enrolled"
	}
	p.row("Reach inventory", fmt.Sprintf("schema %d, agent %s, device %s, collected %s", r.Schema, r.AgentVersion, id,
		r.CollectedAt.UTC().Format(time.DateTime+" MST")))
}

func (p *printer) os(o *inv.OS, at time.Time) {
	if !p.title("OS", o != nil, statusOf(o)) {
		return
	}
	p.kv("Name", firstOf(o.PrettyName, strings.TrimSpace(o.Name+" "+o.Version)))
	p.kv("Kernel", o.Family, o.Kernel, o.Arch)
	p.kv("Hostname", o.Hostname, paren(o.Domain))
	if !o.BootTime.IsZero() {
		p.kv("Boot time", o.BootTime.UTC().Format(time.DateTime+" MST"), "(up "+at.Sub(o.BootTime).Truncate(time.Minute).String()+")")
	}
	off, sign := o.Timezone.Offset, '+'
	if off < 0 {
		off, sign = -off, '-'
	}
	p.kv("Timezone", o.Timezone.Name, o.Timezone.Abbrev, fmt.Sprintf("(UTC%c%02d:%02d)", sign, off/3600, off%3600/60))
	p.kv("Virtualization", o.Virtualization)
}

func (p *printer) hardware(h *inv.Hardware) {
	if !p.title("Hardware", h != nil, statusOf(h)) {
		return
	}
	p.kv("System", h.System.Manufacturer, h.System.Model, h.System.Version, paren(h.System.Family))
	p.kv("Serial", h.System.Serial)
	p.kv("UUID", h.System.UUID)
	p.kv("SKU", h.System.SKU)
	p.kv("BIOS", h.BIOS.Vendor, h.BIOS.Version, h.BIOS.Date)
	p.kv("Firmware", h.BIOS.Firmware, secureBoot(h.BIOS.SecureBoot))
	p.kv("Board", h.Board.Manufacturer, h.Board.Model, h.Board.Version, serial(h.Board.Serial))
	p.kv("Chassis", h.Chassis.Type, h.Chassis.Manufacturer, serial(h.Chassis.Serial), tag(h.Chassis.AssetTag))
}

func (p *printer) cpuMemory(c *inv.CPU, m *inv.Memory) {
	if p.title("CPU", c != nil, statusOf(c)) {
		p.kv("Model", c.Model, paren(c.Vendor))
		p.kv("Topology", fmt.Sprintf("%d socket(s), %d cores, %d threads", c.Sockets, c.Cores, c.Threads))
		if c.MHz > 0 {
			p.kv("Frequency", fmt.Sprintf("%d MHz", c.MHz))
		}
	}
	if !p.title("Memory", m != nil, statusOf(m)) {
		return
	}
	p.kv("Total", HumanBytes(m.TotalBytes), "RAM,", HumanBytes(m.SwapBytes), "swap")
	if p.part("Modules", m.Slots.Status) {
		p.kv("Slots", fmt.Sprintf("%d used of %d", len(m.Slots.Modules), m.Slots.Total)+note(m.Slots.Status))
		p.row("  SLOT", "SIZE", "TYPE", "SPEED", "MANUFACTURER", "PART", "SERIAL")
		for _, mm := range m.Slots.Modules {
			p.row("  "+mm.Locator, HumanBytes(mm.SizeBytes), mm.Type+" "+mm.FormFactor, fmt.Sprintf("%d MT/s", mm.SpeedMTs),
				mm.Manufacturer, mm.PartNumber, mm.Serial)
		}
	}
}

func (p *printer) storage(d *inv.Disks, f *inv.Filesystems) {
	if p.title("Disks", d != nil, statusOf(d)) {
		p.row("  NAME", "MODEL", "SERIAL", "SIZE", "MEDIA", "BUS", "SMART")
		for _, k := range d.Disks {
			smart := "unknown: " + k.SMART.Status.Reason
			if k.SMART.Status.OK {
				smart = "FAILING"
				if k.SMART.Passed {
					smart = "passed"
				}
			}
			p.row("  "+k.Name, firstOf(strings.TrimSpace(k.Vendor+" "+k.Model), "-"), firstOf(k.Serial, "-"), HumanBytes(k.SizeBytes),
				firstOf(k.Media, "-"), firstOf(k.Transport, "-"), smart)
		}
	}
	if p.title("Filesystems", f != nil, statusOf(f)) {
		p.row("  MOUNT", "DEVICE", "TYPE", "SIZE", "USED", "FREE", "USE%")
		for _, fs := range f.Filesystems {
			use := "-"
			if fs.TotalBytes > 0 {
				use = fmt.Sprintf("%.0f%%", 100*float64(fs.UsedBytes)/float64(fs.UsedBytes+fs.FreeBytes))
			}
			p.row("  "+fs.Mount, fs.Device, fs.Type, HumanBytes(fs.TotalBytes), HumanBytes(fs.UsedBytes), HumanBytes(fs.FreeBytes), use)
		}
	}
}

func (p *printer) network(n *inv.Network) {
	if !p.title("Network", n != nil, statusOf(n)) {
		return
	}
	p.row("  INTERFACE", "KIND", "STATE", "SPEED", "MAC", "DRIVER", "ADDRESSES")
	for _, i := range n.Interfaces {
		speed := "-"
		if i.SpeedMbps > 0 {
			speed = fmt.Sprintf("%d Mb/s", i.SpeedMbps)
		}
		p.row("  "+i.Name, firstOf(i.Kind, "-"), firstOf(i.State, "-"), speed, firstOf(i.MAC, "-"), firstOf(i.Driver, "-"),
			firstOf(strings.Join(i.Addresses, " "), "-"))
	}
	if p.part("Gateways", n.Routes.Status) {
		var gws []string
		for _, g := range n.Routes.Gateways {
			gws = append(gws, strings.TrimSpace(g.Address+" "+paren(g.Interface)))
		}
		p.kv("Gateways", firstOf(strings.Join(gws, ", "), "none")+note(n.Routes.Status))
	}
	if p.part("DNS", n.DNS.Status) {
		p.kv("DNS", firstOf(strings.Join(n.DNS.Servers, " "), "none"), searchList(n.DNS.Search)+note(n.DNS.Status))
	}
}

func (p *printer) devices(d *inv.Displays, g *inv.GPUs, b *inv.Batteries) {
	if p.title("Displays", d != nil, statusOf(d)) {
		for _, x := range d.Displays {
			primary := ""
			if x.Primary {
				primary = "primary"
			}
			p.kv(x.Name, fmt.Sprintf("%dx%d at %+d%+d", x.Width, x.Height, x.X, x.Y), x.Manufacturer, x.Model, primary)
		}
		if len(d.Displays) == 0 {
			p.kv("Displays", "none")
		}
	}
	if p.title("GPUs", g != nil, statusOf(g)) {
		for _, x := range g.GPUs {
			p.kv(firstOf(x.Slot, "GPU"), x.Vendor, x.Model, paren(x.VendorID+":"+x.DeviceID), driver(x.Driver))
		}
		if len(g.GPUs) == 0 {
			p.kv("GPUs", "none")
		}
	}
	if p.title("Batteries", b != nil, statusOf(b)) {
		for _, x := range b.Batteries {
			health := ""
			if x.DesignCapacityMWh > 0 && x.FullCapacityMWh > 0 {
				health = fmt.Sprintf("health %d%%", 100*x.FullCapacityMWh/x.DesignCapacityMWh)
			}
			p.kv(x.Name, x.Manufacturer, x.Model, fmt.Sprintf("%d%%", x.ChargePercent), x.State, health,
				fmt.Sprintf("%d cycles", x.CycleCount))
		}
		if len(b.Batteries) == 0 {
			p.kv("Batteries", "none")
		}
	}
}

func (p *printer) users(u *inv.Users) {
	if !p.title("Users", u != nil, statusOf(u)) {
		return
	}
	if p.part("Logged in", u.Sessions.Status) {
		p.kv("Sessions", fmt.Sprint(len(u.Sessions.Sessions))+note(u.Sessions.Status))
		for _, s := range u.Sessions.Sessions {
			p.kv("Logged in", s.User, s.Terminal, paren(s.Host), s.Started.UTC().Format(time.DateTime))
		}
	}
	if p.part("Accounts", u.Accounts.Status) {
		p.kv("Accounts", fmt.Sprint(len(u.Accounts.Accounts))+note(u.Accounts.Status))
		p.row("  ACCOUNT", "ID", "NAME", "HOME", "SHELL")
		for _, a := range u.Accounts.Accounts {
			shell := a.Shell
			if a.Disabled {
				shell += " (disabled)"
			}
			p.row("  "+a.Name, a.ID, firstOf(a.FullName, "-"), firstOf(a.Home, "-"), firstOf(shell, "-"))
		}
	}
}

func (p *printer) software(s *inv.Software) {
	if !p.title("Software", s != nil, statusOf(s)) {
		return
	}
	var sources []string
	for _, src := range s.Sources {
		if src.Status.OK {
			sources = append(sources, string(src.Source)+note(src.Status))
		} else {
			sources = append(sources, string(src.Source)+" (unknown: "+src.Status.Reason+")")
		}
	}
	p.kv("Sources", strings.Join(sources, ", "))
	p.kv("Packages", fmt.Sprint(len(s.Packages)))
	p.row("  SOURCE", "NAME", "VERSION", "ARCH", "PUBLISHER", "INSTALLED")
	for _, k := range s.Packages {
		installed := "-"
		if !k.InstallDate.IsZero() {
			installed = k.InstallDate.UTC().Format(time.DateOnly)
		}
		p.row("  "+string(k.Source), k.Name, k.Version, firstOf(k.Arch, "-"), firstOf(k.Publisher, "-"), installed)
	}
}

func (p *printer) services(s *inv.Services) {
	if !p.title("Services", s != nil, statusOf(s)) {
		return
	}
	p.row("  SERVICE", "STATE", "SUB", "STARTUP", "DESCRIPTION")
	for _, v := range s.Services {
		p.row("  "+v.Name, v.State, firstOf(v.SubState, "-"), firstOf(v.Startup, "-"), v.Description)
	}
}

func (p *printer) security(s *inv.Security) {
	if !p.title("Security", s != nil, statusOf(s)) {
		return
	}
	if p.part("Firewall", s.Firewall.Status) {
		state := "disabled"
		if s.Firewall.Enabled {
			state = "enabled"
		}
		p.kv("Firewall", state, paren(s.Firewall.Backend), rules(s.Firewall.Rules)+note(s.Firewall.Status))
	}
	if p.part("Updates", s.Updates.Status) {
		p.kv("Updates", fmt.Sprintf("%d pending, %d security", s.Updates.Pending, s.Updates.Security)+note(s.Updates.Status))
	}
	if p.part("Reboot", s.Reboot.Status) {
		if s.Reboot.Required {
			p.kv("Reboot", "required:", strings.Join(s.Reboot.Reasons, "; ")+note(s.Reboot.Status))
		} else {
			p.kv("Reboot", "not required"+note(s.Reboot.Status))
		}
	}
}

// statusOf returns a section's top-level Status field (every section type
// has one); absent sections are handled by title before it matters.
func statusOf(section any) inv.Status {
	v := reflect.ValueOf(section)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return inv.Status{}
	}
	st, _ := v.Elem().FieldByName("Status").Interface().(inv.Status)
	return st
}

// HumanBytes formats a size with binary units ("1.5 GiB").
func HumanBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func paren(s string) string {
	if s == "" || s == ":" {
		return ""
	}
	return "(" + s + ")"
}

func prefixed(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}

func serial(s string) string     { return prefixed("serial ", s) }
func tag(s string) string        { return prefixed("asset tag ", s) }
func driver(s string) string     { return prefixed("driver ", s) }
func secureBoot(s string) string { return prefixed("secure boot ", s) }
func searchList(s []string) string {
	return prefixed("search ", strings.Join(s, " "))
}

func rules(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%d rules", n)
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

package inventory

import (
	"fmt"
	"net/netip"
	"reflect"
	"time"
	"unicode"
	"unicode/utf8"
)

// Validate checks a full report: the header, every section present and
// valid, and one hash per section. It does not recompute hashes; Decode does.
func (r *Report) Validate() error {
	if err := r.Header.validate(); err != nil {
		return err
	}
	if missing := r.Sections.Missing(); len(missing) > 0 {
		return invalid(string(missing[0]), "section is missing")
	}
	if err := r.Sections.Validate(); err != nil {
		return err
	}
	return validHashes(r.Hashes, &r.Sections)
}

// Validate checks a delta: the header, the state hashes, each included
// section, and one hash per included section.
func (d *Delta) Validate() error {
	if err := d.Header.validate(); err != nil {
		return err
	}
	if err := first(hexHash("base", d.Base), hexHash("state", d.State)); err != nil {
		return err
	}
	if err := d.Sections.Validate(); err != nil {
		return err
	}
	return validHashes(d.Hashes, &d.Sections)
}

func (h *Header) validate() error {
	if h.Schema != SchemaVersion {
		return &FieldError{Field: "schema", Err: ErrUnsupportedSchema,
			Msg: fmt.Sprintf("schema %d, this side speaks %d", h.Schema, SchemaVersion)}
	}
	return first(
		ident("device_id", h.DeviceID, false),
		text("agent_version", h.AgentVersion, MaxShort, true),
		timestamp("collected_at", h.CollectedAt, true),
	)
}

// validHashes checks that hashes has exactly one well-formed entry per
// present section.
func validHashes(h Hashes, s *Sections) error {
	n := 0
	err := s.each(func(name Section, _ reflect.Value) error {
		n++
		return hexHash("hashes."+string(name), h[name])
	})
	if err != nil {
		return err
	}
	if len(h) != n {
		return invalid("hashes", "has %d entries for %d sections", len(h), n)
	}
	return nil
}

// Validate checks every present section.
func (s *Sections) Validate() error {
	type validator interface{ Validate() error }
	return s.each(func(name Section, v reflect.Value) error {
		return within(string(name), v.Interface().(validator).Validate())
	})
}

// Validate checks the section's bounds and values.
func (o *OS) Validate() error {
	return first(
		o.Status.validate("status"),
		text("family", o.Family, MaxShort, false),
		text("name", o.Name, MaxName, false),
		text("version", o.Version, MaxShort, false),
		text("version_id", o.VersionID, MaxShort, false),
		text("pretty_name", o.PrettyName, MaxName, false),
		text("id", o.ID, MaxShort, false),
		text("id_like", o.IDLike, MaxShort, false),
		text("kernel", o.Kernel, MaxShort, false),
		text("arch", o.Arch, MaxShort, false),
		text("hostname", o.Hostname, MaxName, false),
		text("domain", o.Domain, MaxName, false),
		timestamp("boot_time", o.BootTime, false),
		text("timezone.name", o.Timezone.Name, MaxShort, false),
		text("timezone.abbrev", o.Timezone.Abbrev, MaxShort, false),
		bounded("timezone.offset", o.Timezone.Offset, -18*3600, 18*3600),
		text("virtualization", o.Virtualization, MaxShort, false),
	)
}

// Validate checks the section's bounds and values.
func (h *Hardware) Validate() error {
	s, b, bd, c := &h.System, &h.BIOS, &h.Board, &h.Chassis
	return first(
		h.Status.validate("status"),
		text("system.manufacturer", s.Manufacturer, MaxName, false),
		text("system.model", s.Model, MaxName, false),
		text("system.version", s.Version, MaxShort, false),
		text("system.serial", s.Serial, MaxShort, false),
		text("system.uuid", s.UUID, MaxShort, false),
		text("system.sku", s.SKU, MaxShort, false),
		text("system.family", s.Family, MaxName, false),
		text("bios.vendor", b.Vendor, MaxName, false),
		text("bios.version", b.Version, MaxShort, false),
		text("bios.date", b.Date, MaxShort, false),
		oneOf("bios.firmware", b.Firmware, "", FirmwareUEFI, FirmwareBIOS),
		oneOf("bios.secure_boot", b.SecureBoot, "", SecureBootEnabled, SecureBootDisabled),
		text("board.manufacturer", bd.Manufacturer, MaxName, false),
		text("board.model", bd.Model, MaxName, false),
		text("board.version", bd.Version, MaxShort, false),
		text("board.serial", bd.Serial, MaxShort, false),
		text("board.asset_tag", bd.AssetTag, MaxShort, false),
		text("chassis.type", c.Type, MaxShort, false),
		text("chassis.manufacturer", c.Manufacturer, MaxName, false),
		text("chassis.serial", c.Serial, MaxShort, false),
		text("chassis.asset_tag", c.AssetTag, MaxShort, false),
	)
}

// Validate checks the section's bounds and values.
func (c *CPU) Validate() error {
	return first(
		c.Status.validate("status"),
		text("model", c.Model, MaxName, false),
		text("vendor", c.Vendor, MaxShort, false),
		bounded("sockets", c.Sockets, 0, 1<<10),
		bounded("cores", c.Cores, 0, 1<<20),
		bounded("threads", c.Threads, 0, 1<<20),
		bounded("mhz", c.MHz, 0, 1<<20),
	)
}

// Validate checks the section's bounds and values.
func (m *Memory) Validate() error {
	return first(
		m.Status.validate("status"),
		m.Slots.Status.validate("slots.status"),
		bounded("slots.total", m.Slots.Total, 0, MaxModules),
		each("slots.modules", m.Slots.Modules, MaxModules, func(mm *MemoryModule) error {
			return first(
				text("locator", mm.Locator, MaxName, true),
				text("type", mm.Type, MaxShort, false),
				text("form_factor", mm.FormFactor, MaxShort, false),
				bounded("speed_mts", mm.SpeedMTs, 0, 1<<20),
				text("manufacturer", mm.Manufacturer, MaxName, false),
				text("part_number", mm.PartNumber, MaxName, false),
				text("serial", mm.Serial, MaxShort, false),
			)
		}),
	)
}

// Validate checks the section's bounds and values.
func (d *Disks) Validate() error {
	return first(
		d.Status.validate("status"),
		each("disks", d.Disks, MaxDisks, func(k *Disk) error {
			return first(
				text("name", k.Name, MaxShort, true),
				text("model", k.Model, MaxName, false),
				text("vendor", k.Vendor, MaxName, false),
				text("serial", k.Serial, MaxShort, false),
				text("firmware", k.Firmware, MaxShort, false),
				text("wwn", k.WWN, MaxShort, false),
				text("transport", k.Transport, MaxShort, false),
				oneOf("media", k.Media, "", MediaHDD, MediaSSD),
				k.SMART.Status.validate("smart.status"),
				bounded("smart.reallocated_sectors", k.SMART.ReallocatedSectors, 0, 1<<48),
				bounded("smart.pending_sectors", k.SMART.PendingSectors, 0, 1<<48),
				bounded("smart.media_errors", k.SMART.MediaErrors, 0, 1<<48),
				bounded("smart.percent_used", k.SMART.PercentUsed, 0, 255),
			)
		}),
	)
}

// Validate checks the section's bounds and values.
func (f *Filesystems) Validate() error {
	return first(
		f.Status.validate("status"),
		each("filesystems", f.Filesystems, MaxFilesystems, func(fs *Filesystem) error {
			return first(
				text("mount", fs.Mount, MaxLong, true),
				text("device", fs.Device, MaxLong, false),
				text("type", fs.Type, MaxShort, false),
			)
		}),
	)
}

// Validate checks the section's bounds and values.
func (n *Network) Validate() error {
	return first(
		n.Status.validate("status"),
		each("interfaces", n.Interfaces, MaxInterfaces, func(i *Interface) error {
			return first(
				text("name", i.Name, MaxShort, true),
				mac("mac", i.MAC),
				bounded("mtu", i.MTU, 0, 1<<20),
				oneOf("kind", i.Kind, "", KindEthernet, KindWiFi, KindLoopback, KindBridge, KindVirtual),
				text("state", i.State, MaxShort, false),
				bounded("speed_mbps", i.SpeedMbps, 0, 1<<30),
				text("driver", i.Driver, MaxShort, false),
				each("addresses", i.Addresses, MaxAddresses, prefix),
			)
		}),
		n.Routes.Status.validate("routes.status"),
		each("routes.gateways", n.Routes.Gateways, MaxResolvers, func(g *Gateway) error {
			return first(address("address", g.Address), text("interface", g.Interface, MaxShort, false))
		}),
		n.DNS.Status.validate("dns.status"),
		each("dns.servers", n.DNS.Servers, MaxResolvers, func(s *string) error { return address("", *s) }),
		each("dns.search", n.DNS.Search, MaxResolvers, func(s *string) error { return text("", *s, MaxName, true) }),
	)
}

// Validate checks the section's bounds and values.
func (d *Displays) Validate() error {
	return first(
		d.Status.validate("status"),
		each("displays", d.Displays, MaxDisplays, func(p *Display) error {
			return first(
				text("name", p.Name, MaxShort, true),
				text("model", p.Model, MaxName, false),
				text("manufacturer", p.Manufacturer, MaxShort, false),
				bounded("width", p.Width, 0, 1<<16),
				bounded("height", p.Height, 0, 1<<16),
				bounded("x", p.X, -1<<20, 1<<20),
				bounded("y", p.Y, -1<<20, 1<<20),
				bounded("width_mm", p.WidthMM, 0, 1<<16),
				bounded("height_mm", p.HeightMM, 0, 1<<16),
			)
		}),
	)
}

// Validate checks the section's bounds and values.
func (g *GPUs) Validate() error {
	return first(
		g.Status.validate("status"),
		each("gpus", g.GPUs, MaxGPUs, func(p *GPU) error {
			return first(
				text("vendor", p.Vendor, MaxName, false),
				text("model", p.Model, MaxName, false),
				text("vendor_id", p.VendorID, MaxShort, false),
				text("device_id", p.DeviceID, MaxShort, false),
				text("driver", p.Driver, MaxShort, false),
				text("slot", p.Slot, MaxShort, false),
			)
		}),
	)
}

// Validate checks the section's bounds and values.
func (b *Batteries) Validate() error {
	return first(
		b.Status.validate("status"),
		each("batteries", b.Batteries, MaxBatteries, func(p *Battery) error {
			return first(
				text("name", p.Name, MaxShort, true),
				text("manufacturer", p.Manufacturer, MaxName, false),
				text("model", p.Model, MaxName, false),
				text("serial", p.Serial, MaxShort, false),
				text("technology", p.Technology, MaxShort, false),
				text("state", p.State, MaxShort, false),
				bounded("charge_percent", p.ChargePercent, 0, 100),
				bounded("design_capacity_mwh", p.DesignCapacityMWh, 0, 1<<30),
				bounded("full_capacity_mwh", p.FullCapacityMWh, 0, 1<<30),
				bounded("cycle_count", p.CycleCount, 0, 1<<30),
				bounded("design_voltage_mv", p.DesignVoltageMV, 0, 1<<30),
			)
		}),
	)
}

// Validate checks the section's bounds and values.
func (u *Users) Validate() error {
	return first(
		u.Status.validate("status"),
		u.Sessions.Status.validate("sessions.status"),
		each("sessions.sessions", u.Sessions.Sessions, MaxSessions, func(s *Session) error {
			return first(
				text("user", s.User, MaxShort, true),
				text("terminal", s.Terminal, MaxShort, false),
				text("host", s.Host, MaxName, false),
				timestamp("started", s.Started, false),
			)
		}),
		u.Accounts.Status.validate("accounts.status"),
		each("accounts.accounts", u.Accounts.Accounts, MaxAccounts, func(a *Account) error {
			return first(
				text("name", a.Name, MaxShort, true),
				text("id", a.ID, MaxShort, true),
				text("full_name", a.FullName, MaxName, false),
				text("home", a.Home, MaxLong, false),
				text("shell", a.Shell, MaxLong, false),
			)
		}),
	)
}

// Validate checks the section's bounds and values.
func (s *Software) Validate() error {
	return first(
		s.Status.validate("status"),
		each("sources", s.Sources, MaxSources, func(src *SourceStatus) error {
			return first(source("source", src.Source), src.Status.validate("status"))
		}),
		each("packages", s.Packages, MaxPackages, func(p *Package) error {
			return first(
				source("source", p.Source),
				text("name", p.Name, MaxName, true),
				text("version", p.Version, MaxShort, false),
				text("arch", p.Arch, MaxShort, false),
				text("publisher", p.Publisher, MaxName, false),
				timestamp("install_date", p.InstallDate, false),
			)
		}),
	)
}

// Validate checks the section's bounds and values.
func (s *Services) Validate() error {
	return first(
		s.Status.validate("status"),
		text("manager", s.Manager, MaxShort, false),
		each("services", s.Services, MaxServices, func(v *Service) error {
			return first(
				text("name", v.Name, MaxName, true),
				text("description", v.Description, MaxName, false),
				text("state", v.State, MaxShort, true),
				text("sub_state", v.SubState, MaxShort, false),
				text("startup", v.Startup, MaxShort, false),
			)
		}),
	)
}

// Validate checks the section's bounds and values.
func (s *Security) Validate() error {
	f, up, rb := &s.Firewall, &s.Updates, &s.Reboot
	return first(
		s.Status.validate("status"),
		f.Status.validate("firewall.status"),
		text("firewall.backend", f.Backend, MaxShort, false),
		bounded("firewall.rules", f.Rules, 0, 1<<30),
		up.Status.validate("updates.status"),
		bounded("updates.pending", up.Pending, 0, 1<<30),
		bounded("updates.security", up.Security, 0, up.Pending),
		each("updates.packages", up.Packages, MaxUpdates, func(p *string) error { return text("", *p, MaxName, true) }),
		rb.Status.validate("reboot.status"),
		each("reboot.reasons", rb.Reasons, MaxReasons, func(r *string) error { return text("", *r, MaxLong, true) }),
	)
}

func (s *Status) validate(field string) error {
	if err := first(text("source", s.Source, MaxShort, false), text("reason", s.Reason, MaxLong, false)); err != nil {
		return within(field, err)
	}
	if !s.OK && s.Reason == "" {
		return invalid(field+".reason", "required when ok is false")
	}
	return nil
}

// first returns the first non-nil error.
func first(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// each bounds a list's length, then checks its entries with fn and reports
// the first failure as field[i].
func each[T any](field string, list []T, max int, fn func(*T) error) error {
	if len(list) > max {
		return tooLarge(field, "has %d entries, more than %d", len(list), max)
	}
	for i := range list {
		if err := fn(&list[i]); err != nil {
			return within(fmt.Sprintf("%s[%d]", field, i), err)
		}
	}
	return nil
}

// text bounds human-readable text: at most max bytes of valid UTF-8 without
// control characters, and present when required.
func text(field, s string, max int, required bool) error {
	if len(s) > max {
		return tooLarge(field, "is longer than %d bytes", max)
	}
	if s == "" {
		if required {
			return invalid(field, "is required")
		}
		return nil
	}
	if !utf8.ValidString(s) {
		return invalid(field, "is not valid UTF-8")
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return invalid(field, "contains a control character")
		}
	}
	return nil
}

// ident bounds an identifier: ASCII letters, digits and "._:-".
func ident(field, s string, required bool) error {
	if err := text(field, s, MaxShort, required); err != nil {
		return err
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-') {
			return invalid(field, "has a character outside [A-Za-z0-9._:-]")
		}
	}
	return nil
}

func oneOf(field, s string, allowed ...string) error {
	for _, a := range allowed {
		if s == a {
			return nil
		}
	}
	if len(s) > MaxShort {
		return tooLarge(field, "is longer than %d bytes", MaxShort)
	}
	return invalid(field, "is not one of %q", allowed)
}

func source(field string, s PackageSource) error {
	if len(s) > MaxShort {
		return tooLarge(field, "is longer than %d bytes", MaxShort)
	}
	if !s.Valid() {
		return invalid(field, "is not a known package source")
	}
	return nil
}

func bounded[N int | int64](field string, n, min, max N) error {
	if n < min || n > max {
		return invalid(field, "is %d, outside [%d, %d]", n, min, max)
	}
	return nil
}

// Times must fit the years JSON can carry and not predate Unix time.
var (
	minTime = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
)

func timestamp(field string, t time.Time, required bool) error {
	if t.IsZero() {
		if required {
			return invalid(field, "is required")
		}
		return nil
	}
	if t.Before(minTime) || t.After(maxTime) {
		return invalid(field, "is outside 1970–9999")
	}
	return nil
}

func hexHash(field, s string) error {
	if len(s) != 64 {
		if len(s) > MaxShort {
			return tooLarge(field, "is longer than %d bytes", MaxShort)
		}
		return invalid(field, "is not a hex SHA-256")
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return invalid(field, "is not a hex SHA-256")
		}
	}
	return nil
}

func mac(field, s string) error {
	if err := text(field, s, MaxShort, false); err != nil || s == "" {
		return err
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == ':' || c == '-' || c == '.') {
			return invalid(field, "is not a hardware address")
		}
	}
	return nil
}

func address(field, s string) error {
	if err := text(field, s, MaxShort, true); err != nil {
		return err
	}
	if _, err := netip.ParseAddr(s); err != nil {
		return invalid(field, "is not an IP address")
	}
	return nil
}

func prefix(s *string) error {
	if err := text("", *s, MaxShort, true); err != nil {
		return err
	}
	if _, err := netip.ParsePrefix(*s); err != nil {
		return invalid("", "is not an address in CIDR notation")
	}
	return nil
}

package inventory

import (
	"fmt"
	"reflect"
	"strings"
	"time"
)

// Status says whether a group of values was collected. When OK is false the
// values are unknown and Reason says why; when OK is true Reason may note
// partial data ("skipped 2 malformed lines"). Source names where the values
// came from ("sysfs", "dmidecode", "dpkg"), for whoever debugs a gap.
type Status struct {
	OK     bool   `json:"ok"`
	Source string `json:"source,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// Known returns an OK status for values read from source.
func Known(source string) Status { return Status{OK: true, Source: source} }

// Unknown returns a status for values that could not be collected.
func Unknown(reason string) Status { return Status{Reason: reason} }

// Header identifies who sent a report or delta and when it was collected.
type Header struct {
	Schema       int       `json:"schema"`              // SchemaVersion of the sender
	DeviceID     string    `json:"device_id,omitempty"` // set once enrolled; empty for local output
	AgentVersion string    `json:"agent_version"`
	CollectedAt  time.Time `json:"collected_at"`
}

// Section names a part of the inventory; it is the section's JSON key.
type Section string

// Sections, in schema order.
const (
	SectionOS          Section = "os"
	SectionHardware    Section = "hardware"
	SectionCPU         Section = "cpu"
	SectionMemory      Section = "memory"
	SectionDisks       Section = "disks"
	SectionFilesystems Section = "filesystems"
	SectionNetwork     Section = "network"
	SectionDisplays    Section = "displays"
	SectionGPUs        Section = "gpus"
	SectionBatteries   Section = "batteries"
	SectionUsers       Section = "users"
	SectionSoftware    Section = "software"
	SectionServices    Section = "services"
	SectionSecurity    Section = "security"
)

// Sections holds one pointer per section. A full [Report] has every section;
// a [Delta] has only those that changed. Each field's JSON name is its
// [Section] name.
type Sections struct {
	OS          *OS          `json:"os,omitempty"`
	Hardware    *Hardware    `json:"hardware,omitempty"`
	CPU         *CPU         `json:"cpu,omitempty"`
	Memory      *Memory      `json:"memory,omitempty"`
	Disks       *Disks       `json:"disks,omitempty"`
	Filesystems *Filesystems `json:"filesystems,omitempty"`
	Network     *Network     `json:"network,omitempty"`
	Displays    *Displays    `json:"displays,omitempty"`
	GPUs        *GPUs        `json:"gpus,omitempty"`
	Batteries   *Batteries   `json:"batteries,omitempty"`
	Users       *Users       `json:"users,omitempty"`
	Software    *Software    `json:"software,omitempty"`
	Services    *Services    `json:"services,omitempty"`
	Security    *Security    `json:"security,omitempty"`
}

// Report is a device's full inventory: every section, and the hash of each.
type Report struct {
	Header
	Sections
	Hashes Hashes `json:"hashes"`

	encoded map[Section][]byte // canonical JSON of each section, once verified
}

// sectionField is one field of Sections.
type sectionField struct {
	name  Section
	index int
}

// sectionFields lists the fields of Sections in schema order. Every field is
// a pointer to a section type whose JSON name is the section name.
var sectionFields = func() []sectionField {
	t := reflect.TypeFor[Sections]()
	fields := make([]sectionField, t.NumField())
	for i := range fields {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		fields[i] = sectionField{name: Section(name), index: i}
	}
	return fields
}()

// AllSections returns every section name in schema order.
func AllSections() []Section {
	names := make([]Section, len(sectionFields))
	for i, f := range sectionFields {
		names[i] = f.name
	}
	return names
}

// Get returns the named section (a pointer to its type), or nil when it is
// absent.
func (s *Sections) Get(name Section) any {
	for _, f := range sectionFields {
		if f.name == name {
			v := reflect.ValueOf(s).Elem().Field(f.index)
			if v.IsNil() {
				return nil
			}
			return v.Interface()
		}
	}
	return nil
}

// each calls fn for every present section, in schema order.
func (s *Sections) each(fn func(name Section, v reflect.Value) error) error {
	sv := reflect.ValueOf(s).Elem()
	for _, f := range sectionFields {
		v := sv.Field(f.index)
		if v.IsNil() {
			continue
		}
		if err := fn(f.name, v); err != nil {
			return err
		}
	}
	return nil
}

// copyFrom sets each section present in src on s.
func (s *Sections) copyFrom(src *Sections) {
	dst := reflect.ValueOf(s).Elem()
	from := reflect.ValueOf(src).Elem()
	for _, f := range sectionFields {
		if v := from.Field(f.index); !v.IsNil() {
			dst.Field(f.index).Set(v)
		}
	}
}

// only returns a copy of s with just the named sections.
func (s *Sections) only(keep map[Section]bool) Sections {
	var out Sections
	dst := reflect.ValueOf(&out).Elem()
	sv := reflect.ValueOf(s).Elem()
	for _, f := range sectionFields {
		if keep[f.name] {
			dst.Field(f.index).Set(sv.Field(f.index))
		}
	}
	return out
}

// Missing returns the sections that are absent, in schema order.
func (s *Sections) Missing() []Section {
	var missing []Section
	sv := reflect.ValueOf(s).Elem()
	for _, f := range sectionFields {
		if sv.Field(f.index).IsNil() {
			missing = append(missing, f.name)
		}
	}
	return missing
}

// Seal normalizes the report's sections and computes their hashes. The agent
// calls it once collection is complete; the report must not change after.
func (r *Report) Seal() error {
	r.Normalize()
	r.encoded = nil // a report decoded, then changed, is hashed afresh
	h, err := r.Sections.Hashes()
	if err != nil {
		return fmt.Errorf("inventory: seal: %w", err)
	}
	r.Hashes = h
	return nil
}

package inventory

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// leaf is a string or slice field reached from a root value: the reflect
// indices to walk to it and its JSON path as validation reports it.
type leaf struct {
	walk []int // field index, or slice index 0 after a slice step
	path string
	kind reflect.Kind
}

var timeType = reflect.TypeFor[time.Time]()

// leaves lists every string and slice field under v (structs, pointers and
// the first element of slices are followed; maps and times are leaves that
// are skipped).
func leaves(v reflect.Value, walk []int, path string) []leaf {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		return leaves(v.Elem(), walk, path)
	case reflect.String:
		return []leaf{{walk: walk, path: path, kind: reflect.String}}
	case reflect.Slice:
		out := []leaf{{walk: walk, path: path, kind: reflect.Slice}}
		if v.Len() > 0 {
			out = append(out, leaves(v.Index(0), append(clone(walk), 0), path+"[0]")...)
		}
		return out
	case reflect.Struct:
		if v.Type() == timeType {
			return nil
		}
		var out []leaf
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			p := path
			if !f.Anonymous {
				name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
				if p != "" {
					p += "."
				}
				p += name
			}
			out = append(out, leaves(v.Field(i), append(clone(walk), i), p)...)
		}
		return out
	}
	return nil
}

func clone(s []int) []int { return append([]int(nil), s...) }

// reach follows walk from v.
func reach(v reflect.Value, walk []int) reflect.Value {
	for _, i := range walk {
		for v.Kind() == reflect.Pointer {
			v = v.Elem()
		}
		if v.Kind() == reflect.Slice {
			v = v.Index(i)
		} else {
			v = v.Field(i)
		}
	}
	return v
}

// checkBounds asserts that an oversized value in any string or list under
// the root that fresh() returns makes validate fail with ErrTooLarge at that
// field's path: every string and list has an explicit bound.
func checkBounds(t *testing.T, minFields int, fresh func() reflect.Value, validate func(reflect.Value) error) {
	t.Helper()
	huge := strings.Repeat("x", MaxLong+1)
	all := leaves(fresh(), nil, "")
	if len(all) < minFields {
		t.Fatalf("only %d fields reached; is the fixture complete?", len(all))
	}
	for _, l := range all {
		root := fresh()
		v := reach(root, l.walk)
		switch l.kind {
		case reflect.String:
			v.SetString(huge)
		case reflect.Slice:
			n := MaxPackages + 1
			s := reflect.MakeSlice(v.Type(), n, n)
			if v.Len() > 0 {
				for i := 0; i < n; i++ {
					s.Index(i).Set(v.Index(0))
				}
			}
			v.Set(s)
		}
		err := validate(root)
		var fe *FieldError
		if !errors.Is(err, ErrTooLarge) || !errors.As(err, &fe) || fe.Field != l.path {
			t.Errorf("oversized %s: got %v, want ErrTooLarge at %q", l.path, err, l.path)
		}
	}
}

func TestReportBoundsEveryStringAndList(t *testing.T) {
	fresh := func() reflect.Value { return reflect.ValueOf(testReport(t)) }
	checkBounds(t, 150, fresh, func(v reflect.Value) error { return v.Interface().(*Report).Validate() })
}

func TestDiagBoundsEveryStringAndList(t *testing.T) {
	fresh := func() reflect.Value { return reflect.ValueOf(testDiag()) }
	checkBounds(t, 25, fresh, func(v reflect.Value) error { return v.Interface().(*DiagReport).Validate() })
}

// TestFixtureComplete keeps the fixture honest: a field added to the schema
// without a value in testReport would escape the bounds test.
func TestFixtureComplete(t *testing.T) {
	var zero []string
	var walk func(v reflect.Value, path string)
	walk = func(v reflect.Value, path string) {
		switch v.Kind() {
		case reflect.Pointer:
			if v.IsNil() {
				zero = append(zero, path)
				return
			}
			walk(v.Elem(), path)
		case reflect.Struct:
			if v.Type() == timeType {
				if v.Interface().(time.Time).IsZero() {
					zero = append(zero, path)
				}
				return
			}
			for i := 0; i < v.NumField(); i++ {
				if !v.Type().Field(i).IsExported() { // not part of the schema
					continue
				}
				walk(v.Field(i), path+"."+v.Type().Field(i).Name)
			}
		case reflect.Slice:
			if v.Len() == 0 {
				zero = append(zero, path)
				return
			}
			walk(v.Index(0), path+"[0]")
		case reflect.Bool:
		default:
			if v.IsZero() {
				zero = append(zero, path)
			}
		}
	}
	walk(reflect.ValueOf(testReport(t)), "report")
	walk(reflect.ValueOf(testDiag()), "diag")
	if len(zero) > 0 {
		t.Errorf("fixture leaves fields at their zero value:\n%s", strings.Join(zero, "\n"))
	}
}

func TestValidateRejects(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(r *Report)
		field  string
		want   error
	}{
		{"control character", func(r *Report) { r.OS.Name = "Debian\x1b[31m" }, "os.name", ErrInvalid},
		{"invalid UTF-8", func(r *Report) { r.Hardware.System.Serial = "\xff\xfe" }, "hardware.system.serial", ErrInvalid},
		{"unknown without reason", func(r *Report) { r.CPU.Status = Status{} }, "cpu.status.reason", ErrInvalid},
		{"missing section", func(r *Report) { r.GPUs = nil }, "gpus", ErrInvalid},
		{"unknown package source", func(r *Report) { r.Software.Packages[0].Source = "npm" }, "software.packages[0].source", ErrInvalid},
		{"package without name", func(r *Report) { r.Software.Packages[1].Name = "" }, "software.packages[1].name", ErrInvalid},
		{"media", func(r *Report) { r.Disks.Disks[0].Media = "tape" }, "disks.disks[0].media", ErrInvalid},
		{"address", func(r *Report) { r.Network.Interfaces[0].Addresses[0] = "192.0.2.300/24" }, "network.interfaces[0].addresses[0]", ErrInvalid},
		{"dns server", func(r *Report) { r.Network.DNS.Servers[1] = "<script>" }, "network.dns.servers[1]", ErrInvalid},
		{"mac", func(r *Report) { r.Network.Interfaces[0].MAC = "zz:zz" }, "network.interfaces[0].mac", ErrInvalid},
		{"negative", func(r *Report) { r.CPU.Cores = -1 }, "cpu.cores", ErrInvalid},
		{"charge", func(r *Report) { r.Batteries.Batteries[0].ChargePercent = 101 }, "batteries.batteries[0].charge_percent", ErrInvalid},
		{"security updates over pending", func(r *Report) { r.Security.Updates.Security = 3 }, "security.updates.security", ErrInvalid},
		{"time before 1970", func(r *Report) { r.OS.BootTime = time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC) }, "os.boot_time", ErrInvalid},
		{"no collection time", func(r *Report) { r.CollectedAt = time.Time{} }, "collected_at", ErrInvalid},
		{"device id", func(r *Report) { r.DeviceID = "dev 1" }, "device_id", ErrInvalid},
		{"schema", func(r *Report) { r.Schema = 2 }, "schema", ErrUnsupportedSchema},
		{"hash missing", func(r *Report) { delete(r.Hashes, SectionOS) }, "hashes.os", ErrInvalid},
		{"extra hash", func(r *Report) { r.Hashes["extra"] = r.Hashes[SectionOS] }, "hashes", ErrInvalid},
		{"hash not hex", func(r *Report) { r.Hashes[SectionOS] = strings.Repeat("Z", 64) }, "hashes.os", ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := testReport(t)
			tt.mutate(r)
			err := r.Validate()
			var fe *FieldError
			if !errors.Is(err, tt.want) || !errors.As(err, &fe) || fe.Field != tt.field {
				t.Fatalf("Validate = %v, want %v at %q", err, tt.want, tt.field)
			}
		})
	}
}

func TestValidateAcceptsFixture(t *testing.T) {
	if err := testReport(t).Validate(); err != nil {
		t.Fatal(err)
	}
	if err := testDiag().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestSectionNamesMatchConstants(t *testing.T) {
	want := []Section{SectionOS, SectionHardware, SectionCPU, SectionMemory, SectionDisks, SectionFilesystems,
		SectionNetwork, SectionDisplays, SectionGPUs, SectionBatteries, SectionUsers, SectionSoftware,
		SectionServices, SectionSecurity}
	if got := AllSections(); !reflect.DeepEqual(got, want) {
		t.Fatalf("AllSections = %v, want %v", got, want)
	}
}

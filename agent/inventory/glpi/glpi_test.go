package glpi

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"regexp"
	"slices"
	"testing"

	"github.com/reachdesk/reach/agent/inventory"
	inv "github.com/reachdesk/reach/proto/inventory"
)

var update = flag.Bool("update", false, "rewrite testdata/glpi.json")

// The parts of GLPI's inventory.schema.json (glpi-project/inventory_format)
// that Convert produces: the properties each section allows, the integer
// properties and the patterns.
var (
	topLevel = []string{"content", "deviceid", "jobid", "itemtype", "partial", "action", "tag"}
	sections = map[string][]string{
		"accesslog": {"logdate", "userid"},
		"hardware": {"chassis_type", "datelastloggeduser", "defaultgateway", "dns", "lastloggeduser", "memory", "name", "swap",
			"uuid", "vmsystem", "workgroup", "type", "description", "winprodid", "winowner", "winprodkey", "wincompany", "winlang"},
		"bios": {"assettag", "bdate", "bmanufacturer", "bversion", "mmanufacturer", "mmodel", "msn", "skunumber", "smanufacturer",
			"smodel", "ssn", "biosserial", "enclosureserial", "secure_boot"},
		"operatingsystem": {"arch", "boot_time", "dns_domain", "fqdn", "full_name", "hostid", "install_date", "kernel_name",
			"kernel_version", "name", "ssh_key", "service_pack", "timezone", "version"},
		"cpus": {"arch", "core", "corecount", "description", "external_clock", "familyname", "familynumber", "id",
			"manufacturer", "model", "name", "serial", "speed", "stepping", "thread", "cache"},
		"memories": {"capacity", "caption", "description", "manufacturer", "memorycorrection", "numslots", "serialnumber",
			"model", "speed", "type", "formfactor", "purpose", "removable"},
		"storages": {"description", "disksize", "firmware", "interface", "manufacturer", "model", "name", "scsi_coid",
			"scsi_lun", "scsi_unid", "scsi_chid", "serial", "type", "wwn", "encrypt_name", "encrypt_algo", "encrypt_status", "encrypt_type"},
		"drives": {"description", "letter", "systemdrive", "filesystem", "free", "serial", "total", "type", "volumn",
			"createdate", "label", "encrypt_name", "encrypt_algo", "encrypt_status", "encrypt_type"},
		"networks": {"description", "management", "ipaddress", "ipaddress6", "ipdhcp", "ipgateway", "ipmask", "ipmask6",
			"ipsubnet", "ipsubnet6", "mac", "pciid", "pnpdeviceid", "speed", "status", "type", "virtualdev", "manufacturer",
			"model", "wwn", "driver", "firmware", "pcislot", "mtu", "slaves", "base", "wifi_ssid", "wifi_bssid", "wifi_mode", "wifi_version"},
		"videos":      {"name", "chipset", "memory", "resolution", "pcislot"},
		"monitors":    {"base64", "caption", "description", "manufacturer", "serial", "altserial", "port", "uuencode", "name", "type"},
		"batteries":   {"capacity", "real_capacity", "date", "chemistry", "manufacturer", "name", "serial", "voltage"},
		"users":       {"domain", "login"},
		"local_users": {"home", "id", "login", "name", "shell"},
		"softwares": {"arch", "comments", "filesize", "from", "guid", "install_date", "name", "publisher", "system_category",
			"uninstall_string", "url_info_about", "version", "folder", "helplink", "no_remove", "release_type",
			"version_minor", "version_major", "username", "userid"},
		"firewalls": {"description", "ipaddress", "ipaddress6", "profile", "status"},
	}
	required = map[string][]string{"firewalls": {"status"}, "local_users": {"id"}, "softwares": {"name"}, "networks": {"description"}}
	integers = map[string][]string{
		"hardware": {"memory", "swap"}, "cpus": {"core", "corecount", "speed", "thread"}, "memories": {"capacity", "numslots"},
		"storages": {"disksize"}, "drives": {"free", "total"}, "networks": {"mtu"}, "batteries": {"capacity", "real_capacity", "voltage"},
		"softwares": {"filesize"},
	}
	dateOrTime = `^[0-9]{4}-[0-9]{2}-[0-9]{2}([ |T][0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+|-][0-9]{2}:[0-9]{2}:[0-9]{2})?)?$`
	patterns   = map[string]map[string]*regexp.Regexp{
		"accesslog":       {"logdate": regexp.MustCompile(dateOrTime)},
		"bios":            {"bdate": regexp.MustCompile(dateOrTime), "secure_boot": regexp.MustCompile(`^(enabled|disabled|unsupported)$`)},
		"operatingsystem": {"boot_time": regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}[ |T][0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+|-][0-9]{2}:[0-9]{2}:[0-9]{2})?$`)},
		"cpus":            {"arch": cpuArch},
		"networks": {"status": regexp.MustCompile(`^(up|down|dormant|notpresent|lowerlayerdown|unknown|testing)$`),
			"type": regexp.MustCompile(`^(ethernet|wifi|infiniband|aggregate|alias|dialup|loopback|bridge|fibrechannel|bluetooth)$`)},
		"softwares": {"install_date": regexp.MustCompile(dateOrTime)},
	}
	tzOffset = regexp.MustCompile(`^[+-][0-9]{4}$`)
)

// checkSchema checks a converted inventory against the schema parts above.
func checkSchema(t *testing.T, g *Inventory) {
	t.Helper()
	b, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"deviceid", "content"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("required top-level key %q missing", k)
		}
	}
	if doc["itemtype"] != "Computer" || doc["action"] != "inventory" || doc["deviceid"] == "" {
		t.Errorf("itemtype %v, action %v, deviceid %q", doc["itemtype"], doc["action"], doc["deviceid"])
	}
	for k := range doc {
		if !slices.Contains(topLevel, k) {
			t.Errorf("top-level key %q is not in the schema", k)
		}
	}
	content := doc["content"].(map[string]any)
	if v, _ := content["versionclient"].(string); v == "" {
		t.Error("content.versionclient missing")
	}
	for name, section := range content {
		if name == "versionclient" {
			continue
		}
		allowed, ok := sections[name]
		if !ok {
			t.Errorf("content.%s is not a section this test knows", name)
			continue
		}
		var items []any
		switch s := section.(type) {
		case []any:
			items = s
		case map[string]any:
			items = []any{s}
		default:
			t.Errorf("content.%s is a %T", name, section)
		}
		for i, item := range items {
			fields := item.(map[string]any)
			where := fmt.Sprintf("content.%s[%d]", name, i)
			for _, r := range required[name] {
				if _, ok := fields[r]; !ok {
					t.Errorf("%s: required %q missing", where, r)
				}
			}
			for f, v := range fields {
				if !slices.Contains(allowed, f) {
					t.Errorf("%s.%s is not in the schema", where, f)
				}
				if slices.Contains(integers[name], f) {
					if n, ok := v.(float64); !ok || n != math.Trunc(n) {
						t.Errorf("%s.%s = %v, want an integer", where, f, v)
					}
				} else if f != "timezone" && f != "virtualdev" {
					if _, ok := v.(string); !ok {
						t.Errorf("%s.%s = %v (%T), want a string", where, f, v, v)
					}
				}
				if re := patterns[name][f]; re != nil && !re.MatchString(fmt.Sprint(v)) {
					t.Errorf("%s.%s = %q does not match %s", where, f, v, re)
				}
			}
			if tz, ok := fields["timezone"].(map[string]any); ok {
				if tz["name"] == "" || !tzOffset.MatchString(fmt.Sprint(tz["offset"])) {
					t.Errorf("%s.timezone = %v", where, tz)
				}
			}
		}
	}
}

func fixtureReport(t *testing.T) *inv.Report {
	t.Helper()
	b, err := os.ReadFile("../../../proto/inventory/testdata/report.json")
	if err != nil {
		t.Fatal(err)
	}
	r, err := inv.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestConvertFixture(t *testing.T) {
	g := Convert(fixtureReport(t), Options{})
	checkSchema(t, g)
	// The fixture's snap source is unknown: GLPI must not drop snaps it knew.
	if g.DeviceID != "dev-1" || !g.Partial {
		t.Errorf("deviceid %q, partial %v", g.DeviceID, g.Partial)
	}
	got, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if *update {
		if err := os.WriteFile("testdata/glpi.json", got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("testdata/glpi.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from testdata/glpi.json (run with -update after checking):\n%s", got)
	}
}

func TestConvertUnknownSectionsArePartial(t *testing.T) {
	r := fixtureReport(t)
	r.DeviceID = ""
	r.Software.Sources = r.Software.Sources[:1] // dpkg, known
	if g := Convert(r, Options{}); g.Partial {
		t.Fatal("complete inventory marked partial")
	}
	r.Hardware = &inv.Hardware{Status: inv.Unknown("dmidecode not installed")}
	g := Convert(r, Options{Tag: "site-a"})
	checkSchema(t, g)
	if !g.Partial || g.Content.BIOS != nil || g.Content.Hardware.UUID != "" {
		t.Errorf("unknown hardware: partial %v, bios %+v", g.Partial, g.Content.BIOS)
	}
	if g.DeviceID != "pc-042-2026-11-23-08-00-00" || g.Tag != "site-a" {
		t.Errorf("deviceid %q, tag %q", g.DeviceID, g.Tag)
	}
}

func TestConvertLive(t *testing.T) {
	if testing.Short() {
		t.Skip("collects the live system")
	}
	r, err := inventory.New(inventory.Options{}).Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	checkSchema(t, Convert(r, Options{}))
}

func TestMask(t *testing.T) {
	for _, tt := range []struct {
		size, bits int
		want       string
	}{{4, 24, "255.255.255.0"}, {4, 0, "0.0.0.0"}, {4, 20, "255.255.240.0"}, {16, 64, "ffff:ffff:ffff:ffff::"}} {
		if got := mask(tt.size, tt.bits).String(); got != tt.want {
			t.Errorf("mask(%d, %d) = %s, want %s", tt.size, tt.bits, got, tt.want)
		}
	}
}

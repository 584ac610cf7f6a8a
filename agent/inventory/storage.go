package inventory

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	inv "github.com/reachdesk/reach/proto/inventory"
)

// lsblkColumns are the columns the disk collector asks lsblk for.
const lsblkColumns = "NAME,TYPE,SIZE,MODEL,VENDOR,SERIAL,REV,WWN,ROTA,TRAN,RM"

// scalar decodes a JSON value that lsblk prints as a string in old versions
// and as a number, boolean or null in new ones.
type scalar string

func (s *scalar) UnmarshalJSON(b []byte) error {
	switch {
	case bytes.Equal(b, []byte("null")):
		*s = ""
	case len(b) > 0 && b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = scalar(v)
	case bytes.Equal(b, []byte("true")):
		*s = "1"
	case bytes.Equal(b, []byte("false")):
		*s = "0"
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return err
		}
		*s = scalar(n)
	}
	return nil
}

// parseLSBLK parses `lsblk -J -b -d -o NAME,TYPE,…` and keeps whole disks
// (TYPE disk), leaving out RAM-backed ones (zram, ram).
func parseLSBLK(b []byte) ([]inv.Disk, error) {
	var doc struct {
		Blockdevices []map[string]scalar `json:"blockdevices"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("lsblk JSON: %w", err)
	}
	disks := []inv.Disk{}
	for _, d := range doc.Blockdevices {
		name := clean(string(d["name"]), inv.MaxShort)
		if d["type"] != "disk" || name == "" || strings.HasPrefix(name, "zram") || strings.HasPrefix(name, "ram") {
			continue
		}
		if len(disks) == inv.MaxDisks {
			break
		}
		size, _ := strconv.ParseUint(string(d["size"]), 10, 64)
		disks = append(disks, inv.Disk{
			Name: name, Model: clean(string(d["model"]), inv.MaxName), Vendor: clean(string(d["vendor"]), inv.MaxName),
			Serial: clean(string(d["serial"]), inv.MaxShort), Firmware: clean(string(d["rev"]), inv.MaxShort),
			WWN: clean(string(d["wwn"]), inv.MaxShort), SizeBytes: size, Transport: clean(string(d["tran"]), inv.MaxShort),
			Media: media(string(d["rota"])), Removable: d["rm"] == "1",
		})
	}
	return disks, nil
}

// media maps the kernel's rotational flag.
func media(rota string) string {
	switch strings.TrimSpace(rota) {
	case "1":
		return inv.MediaHDD
	case "0":
		return inv.MediaSSD
	}
	return ""
}

// smartctl exit status bits (smartctl(8), RETURN VALUES) that mean the
// device could not be queried at all.
const smartFatal = 1<<0 | 1<<1

// parseSmartctl parses `smartctl -j -H -A /dev/X`. It returns an unknown
// status, with smartctl's own message as the reason, when smartctl could not
// read the device or the device has no SMART health.
func parseSmartctl(b []byte) inv.SMART {
	var doc struct {
		Smartctl struct {
			ExitStatus int `json:"exit_status"`
			Messages   []struct {
				String string `json:"string"`
			} `json:"messages"`
		} `json:"smartctl"`
		SmartStatus *struct {
			Passed bool `json:"passed"`
		} `json:"smart_status"`
		ATA *struct {
			Table []struct {
				ID  int `json:"id"`
				Raw struct {
					Value int64 `json:"value"`
				} `json:"raw"`
			} `json:"table"`
		} `json:"ata_smart_attributes"`
		NVMe *struct {
			PercentageUsed int   `json:"percentage_used"`
			MediaErrors    int64 `json:"media_errors"`
		} `json:"nvme_smart_health_information_log"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return inv.SMART{Status: inv.Unknown(clip("smartctl output: "+err.Error(), inv.MaxLong))}
	}
	if doc.Smartctl.ExitStatus&smartFatal != 0 || doc.SmartStatus == nil {
		reason := "smartctl reported no health status"
		if len(doc.Smartctl.Messages) > 0 {
			reason = "smartctl: " + doc.Smartctl.Messages[0].String
		}
		return inv.SMART{Status: inv.Unknown(clean(reason, inv.MaxLong))}
	}
	s := inv.SMART{Status: inv.Known("smartctl"), Passed: doc.SmartStatus.Passed}
	if doc.ATA != nil {
		for _, a := range doc.ATA.Table {
			v := max(0, min(a.Raw.Value&0xffffffff, 1<<40)) // vendors pack extra data in the high bytes
			switch a.ID {
			case 5:
				s.ReallocatedSectors = v
			case 197:
				s.PendingSectors = v
			}
		}
	}
	if doc.NVMe != nil {
		s.PercentUsed = max(0, min(doc.NVMe.PercentageUsed, 255))
		s.MediaErrors = max(0, min(doc.NVMe.MediaErrors, 1<<40))
	}
	return s
}

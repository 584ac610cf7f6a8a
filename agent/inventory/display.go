package inventory

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	inv "github.com/reachdesk/reach/proto/inventory"
)

// xrandrOutput matches an active output line of `xrandr --query`:
// "HDMI-1 connected primary 1920x1080+1920+0 (normal …) 527mm x 296mm".
var xrandrOutput = regexp.MustCompile(`^(\S+) connected (primary )?(\d+)x(\d+)\+?(-?\d+)\+?(-?\d+)(?: [a-z]+)?(?: \([^)]*\))?(?: (\d+)mm x (\d+)mm)?`)

// parseXrandr returns the active outputs in `xrandr --query`; connected but
// disabled outputs (no geometry) and disconnected ones are left out.
func parseXrandr(b []byte) []inv.Display {
	displays := []inv.Display{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		m := xrandrOutput.FindStringSubmatch(sc.Text())
		if m == nil || len(displays) == inv.MaxDisplays {
			continue
		}
		d := inv.Display{Name: clean(m[1], inv.MaxShort), Primary: m[2] != ""}
		d.Width, d.Height, d.X, d.Y = atoiBounded(m[3]), atoiBounded(m[4]), atoiBounded(m[5]), atoiBounded(m[6])
		d.WidthMM, d.HeightMM = atoiBounded(m[7]), atoiBounded(m[8])
		displays = append(displays, d)
	}
	return displays
}

// atoiBounded parses a small decimal number; anything else is 0.
func atoiBounded(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < -1<<20 || n > 1<<20 {
		return 0
	}
	return n
}

// edid is what the collector takes from a monitor's EDID block.
type edid struct {
	Manufacturer      string // PNP ID: "DEL"
	Model             string // display product name descriptor
	WidthMM, HeightMM int
}

var edidHeader = []byte{0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00}

// parseEDID decodes the base EDID block (VESA E-EDID 1.4): the manufacturer
// ID, the screen size and the monitor name descriptor.
func parseEDID(b []byte) (edid, error) {
	if len(b) < 128 || !bytes.Equal(b[:8], edidHeader) {
		return edid{}, errors.New("not an EDID block")
	}
	var sum byte
	for _, c := range b[:128] {
		sum += c
	}
	if sum != 0 {
		return edid{}, errors.New("EDID checksum mismatch")
	}
	id := binary.BigEndian.Uint16(b[8:10])
	var e edid
	for shift := 10; shift >= 0; shift -= 5 {
		c := byte(id>>shift) & 0x1f
		if c < 1 || c > 26 {
			return edid{}, fmt.Errorf("EDID manufacturer ID %#04x is not three letters", id)
		}
		e.Manufacturer += string('A' - 1 + c)
	}
	e.WidthMM, e.HeightMM = int(b[21])*10, int(b[22])*10
	for off := 54; off+18 <= 126; off += 18 {
		d := b[off : off+18]
		if d[0] == 0 && d[1] == 0 && d[3] == 0xfc {
			name, _, _ := bytes.Cut(d[5:], []byte{0x0a})
			e.Model = clean(string(name), inv.MaxName)
		}
	}
	return e, nil
}

// drmMode parses the first line of a DRM connector's modes file, the
// preferred mode: "1920x1080".
func drmMode(modes string) (w, h int) {
	first, _, _ := strings.Cut(strings.TrimSpace(modes), "\n")
	ws, hs, ok := strings.Cut(first, "x")
	if !ok {
		return 0, 0
	}
	hs, _, _ = strings.Cut(hs, "i") // interlaced modes: "1920x1080i"
	return atoiBounded(ws), atoiBounded(hs)
}

package inventory

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"

	inv "github.com/reachdesk/reach/proto/inventory"
)

// parseUevent parses a sysfs uevent file: KEY=value lines.
func parseUevent(b []byte) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			out[k] = v
		}
	}
	return out
}

// batteryFromUevent maps a power_supply uevent. It returns false for
// supplies that are not a system battery (mains, USB, or the batteries of
// peripherals such as wireless mice, whose scope is "Device").
func batteryFromUevent(name string, u map[string]string) (inv.Battery, bool) {
	if u["POWER_SUPPLY_TYPE"] != "Battery" || u["POWER_SUPPLY_SCOPE"] == "Device" {
		return inv.Battery{}, false
	}
	num := func(k string) int64 {
		n, err := strconv.ParseInt(strings.TrimSpace(u[k]), 10, 64)
		if err != nil || n < 0 || n > 1<<50 {
			return 0
		}
		return n
	}
	b := inv.Battery{
		Name: clean(name, inv.MaxShort), Manufacturer: clean(u["POWER_SUPPLY_MANUFACTURER"], inv.MaxName),
		Model: clean(u["POWER_SUPPLY_MODEL_NAME"], inv.MaxName), Serial: clean(u["POWER_SUPPLY_SERIAL_NUMBER"], inv.MaxShort),
		Technology:    clean(u["POWER_SUPPLY_TECHNOLOGY"], inv.MaxShort),
		State:         strings.ToLower(clean(u["POWER_SUPPLY_STATUS"], inv.MaxShort)),
		ChargePercent: int(min(num("POWER_SUPPLY_CAPACITY"), 100)), CycleCount: int(min(num("POWER_SUPPLY_CYCLE_COUNT"), 1<<30)),
		DesignVoltageMV: int(min(num("POWER_SUPPLY_VOLTAGE_MIN_DESIGN")/1000, 1<<30)),
	}
	// Energy in µWh, or charge in µAh times the design voltage in µV.
	mwh := func(energy, charge string) int {
		if e := num(energy); e > 0 {
			return int(min(e/1000, 1<<30))
		}
		if c, v := num(charge), num("POWER_SUPPLY_VOLTAGE_MIN_DESIGN"); c > 0 && v > 0 {
			return int(min(c/1000*(v/1000)/1000, 1<<30))
		}
		return 0
	}
	b.DesignCapacityMWh = mwh("POWER_SUPPLY_ENERGY_FULL_DESIGN", "POWER_SUPPLY_CHARGE_FULL_DESIGN")
	b.FullCapacityMWh = mwh("POWER_SUPPLY_ENERGY_FULL", "POWER_SUPPLY_CHARGE_FULL")
	return b, true
}

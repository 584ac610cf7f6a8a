package inventory

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	inv "github.com/reachdesk/reach/proto/inventory"
)

// parseSystemdUnitsJSON parses `systemctl list-units --output=json`:
// [{"unit":…,"load":…,"active":…,"sub":…,"description":…}, …].
func parseSystemdUnitsJSON(b []byte) ([]inv.Service, error) {
	var units []struct {
		Unit        string `json:"unit"`
		Load        string `json:"load"`
		Active      string `json:"active"`
		Sub         string `json:"sub"`
		Description string `json:"description"`
	}
	if err := json.Unmarshal(b, &units); err != nil {
		return nil, fmt.Errorf("systemctl JSON: %w", err)
	}
	services := []inv.Service{}
	for _, u := range units {
		if u.Unit == "" || u.Active == "" || len(services) == inv.MaxServices {
			continue
		}
		services = append(services, inv.Service{Name: clean(u.Unit, inv.MaxName), Description: clean(u.Description, inv.MaxName),
			State: clean(u.Active, inv.MaxShort), SubState: clean(u.Sub, inv.MaxShort)})
	}
	return services, nil
}

// parseSystemdUnitsPlain parses `systemctl list-units --plain --no-legend`
// (systemd before 246 has no JSON output): "UNIT LOAD ACTIVE SUB
// DESCRIPTION…", failed units possibly prefixed with "●" or "*". Lines with
// fewer than four fields are skipped.
func parseSystemdUnitsPlain(b []byte) []inv.Service {
	services := []inv.Service{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 0 && (f[0] == "●" || f[0] == "*") {
			f = f[1:]
		}
		if len(f) < 4 || !strings.Contains(f[0], ".") || len(services) == inv.MaxServices {
			continue
		}
		services = append(services, inv.Service{Name: clean(f[0], inv.MaxName), State: clean(f[2], inv.MaxShort),
			SubState: clean(f[3], inv.MaxShort), Description: clean(strings.Join(f[4:], " "), inv.MaxName)})
	}
	return services
}

// parseSystemdUnitFiles parses `systemctl list-unit-files --no-legend`:
// "UNIT STATE [PRESET]" → unit → state ("enabled", "disabled", "static", …).
func parseSystemdUnitFiles(b []byte) map[string]string {
	states := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) >= 2 {
			states[f[0]] = f[1]
		}
	}
	return states
}

// startup returns a unit's unit-file state; instances of a template
// ("getty@tty1.service") take the template's ("getty@.service").
func startup(states map[string]string, unit string) string {
	if s, ok := states[unit]; ok {
		return clean(s, inv.MaxShort)
	}
	if at, dot := strings.IndexByte(unit, '@'), strings.LastIndexByte(unit, '.'); at >= 0 && dot > at {
		return clean(states[unit[:at+1]+unit[dot:]], inv.MaxShort)
	}
	return ""
}

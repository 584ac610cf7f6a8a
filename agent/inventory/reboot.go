package inventory

import (
	"bufio"
	"bytes"
	"strings"

	inv "github.com/reachdesk/reach/proto/inventory"
)

// rebootPackages reads /var/run/reboot-required.pkgs: the packages that
// asked for the reboot, one a line, deduplicated in order.
func rebootPackages(b []byte) []string {
	var pkgs []string
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		p := clean(sc.Text(), inv.MaxLong)
		if p != "" && !seen[p] && len(pkgs) < inv.MaxReasons-2 {
			seen[p] = true
			pkgs = append(pkgs, p)
		}
	}
	return pkgs
}

// kernelGone reports whether the running kernel release has no modules
// directory while others do: the package manager replaced the kernel and
// only a reboot brings the new one in.
func kernelGone(running string, installed []string) bool {
	if running == "" || len(installed) == 0 {
		return false
	}
	for _, k := range installed {
		if strings.TrimSpace(k) == running {
			return false
		}
	}
	return true
}

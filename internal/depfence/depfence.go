// Package depfence lets a binary's tests fence its dependencies: the relay
// and the console must build without cgo and must not link the agent's
// capture, input or inventory libraries (see docs/architecture.md).
package depfence

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Check lists pkg's dependencies as `go list -deps` sees them with cgo
// disabled, and fails tb for every dependency that starts with one of the
// forbidden prefixes, or if the list cannot be made without cgo.
func Check(tb testing.TB, pkg string, forbidden ...string) {
	tb.Helper()
	cmd := exec.Command("go", "list", "-deps", pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		tb.Fatalf("go list -deps %s without cgo: %v\n%s", pkg, err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		tb.Fatalf("go list -deps %s returned only %d packages", pkg, len(deps))
	}
	for _, d := range deps {
		if d == "runtime/cgo" {
			tb.Errorf("%s links runtime/cgo", pkg)
		}
		for _, f := range forbidden {
			if strings.HasPrefix(d, f) {
				tb.Errorf("%s depends on %s (forbidden: %s)", pkg, d, f)
			}
		}
	}
}

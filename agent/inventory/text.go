package inventory

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/reachdesk/reach/agent/inventory/probe"
)

// clean makes a value from a file or a command fit for the schema: valid
// UTF-8, control characters replaced by spaces, surrounding space trimmed,
// and at most max bytes (cut on a rune boundary).
func clean(s string, max int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		s = strings.Map(func(r rune) rune {
			if unicode.IsControl(r) {
				return ' '
			}
			return r
		}, s)
	}
	return clip(strings.TrimSpace(s), max)
}

// clip cuts s to at most max bytes on a rune boundary.
func clip(s string, max int) string {
	if len(s) <= max {
		return s
	}
	for max > 0 && !utf8.RuneStart(s[max]) {
		max--
	}
	return s[:max]
}

// why turns an error from reading a source into a short reason for a status:
// "dmidecode not installed", "/etc/os-release: no such file",
// "permission denied (needs root)".
func why(source string, err error) string {
	var exit *probe.ExitError
	switch {
	case errors.Is(err, probe.ErrNotInstalled):
		return source + " not installed"
	case errors.Is(err, fs.ErrNotExist):
		return source + ": not found"
	case errors.Is(err, fs.ErrPermission):
		return source + ": permission denied (needs root)"
	case errors.As(err, &exit):
		return clip(exit.Error(), 512)
	}
	return clip(fmt.Sprintf("%s: %v", source, err), 512)
}

package inventory

import (
	"bufio"
	"bytes"
	"strings"

	inv "github.com/reachdesk/reach/proto/inventory"
)

// parseOSRelease parses os-release(5): KEY=value lines, values optionally
// in single or double quotes with shell-style backslash escapes inside double
// quotes. Comments, blank lines and malformed lines are skipped.
func parseOSRelease(b []byte) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		key, val, ok := strings.Cut(line, "=")
		if !ok || key == "" || strings.ContainsAny(key, " \t\"'") {
			continue
		}
		out[key] = unquoteShell(val)
	}
	return out
}

// unquoteShell undoes the quoting os-release allows. An unterminated quote
// keeps the rest of the line.
func unquoteShell(v string) string {
	if len(v) == 0 {
		return v
	}
	switch q := v[0]; q {
	case '\'':
		v, _, _ = strings.Cut(v[1:], "'")
		return v
	case '"':
		var b strings.Builder
		for i := 1; i < len(v); i++ {
			switch c := v[i]; {
			case c == '"':
				return b.String()
			case c == '\\' && i+1 < len(v) && strings.IndexByte("\"\\$`", v[i+1]) >= 0:
				i++
				b.WriteByte(v[i])
			default:
				b.WriteByte(c)
			}
		}
		return b.String()
	}
	return v
}

// applyOSRelease sets the OS fields os-release provides.
func applyOSRelease(o *inv.OS, rel map[string]string) {
	set := func(dst *string, max int, keys ...string) {
		for _, k := range keys {
			if v := clean(rel[k], max); v != "" {
				*dst = v
				return
			}
		}
	}
	set(&o.Name, inv.MaxName, "NAME", "ID")
	set(&o.Version, inv.MaxShort, "VERSION", "VERSION_ID", "BUILD_ID")
	set(&o.VersionID, inv.MaxShort, "VERSION_ID")
	set(&o.PrettyName, inv.MaxName, "PRETTY_NAME")
	set(&o.ID, inv.MaxShort, "ID")
	set(&o.IDLike, inv.MaxShort, "ID_LIKE")
}

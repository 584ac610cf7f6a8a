package inventory

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"

	inv "github.com/reachdesk/reach/proto/inventory"
)

// parsed is a parser's result: the packages it read and how many records it
// had to skip as malformed.
type parsed struct {
	Packages []inv.Package
	Skipped  int
}

// status returns an OK status for source, noting skipped records.
func (p parsed) status(source string) inv.Status {
	st := inv.Known(source)
	if p.Skipped > 0 {
		st.Reason = fmt.Sprintf("skipped %d malformed records", p.Skipped)
	}
	return st
}

// add appends a package while the schema's bound allows.
func (p *parsed) add(pkg inv.Package) {
	if len(p.Packages) < inv.MaxPackages {
		p.Packages = append(p.Packages, pkg)
	}
}

// stanzas splits RFC 822-style records separated by blank lines (dpkg
// status, apk installed) and calls fn with each record's fields. Continuation
// lines (starting with a space) are dropped: no field the collectors use
// spans lines.
func stanzas(b []byte, sep string, fn func(fields map[string]string)) {
	fields := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	flush := func() {
		if len(fields) > 0 {
			fn(fields)
			fields = map[string]string{}
		}
	}
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.TrimSpace(line) == "":
			flush()
		case line[0] == ' ' || line[0] == '\t':
		default:
			if k, v, ok := strings.Cut(line, sep); ok {
				fields[k] = strings.TrimSpace(v)
			}
		}
	}
	flush()
}

// publisher strips the e-mail address from "Name <mail@example.org>".
func publisher(s string) string {
	if i := strings.IndexByte(s, '<'); i > 0 {
		s = s[:i]
	}
	return clean(s, inv.MaxName)
}

// parseDpkgStatus reads /var/lib/dpkg/status and keeps installed packages
// ("Status: install ok installed", or "hold ok installed"). Records without
// a package name or version are skipped as malformed.
func parseDpkgStatus(b []byte) parsed {
	var p parsed
	stanzas(b, ":", func(f map[string]string) {
		if !strings.HasSuffix(f["Status"], " ok installed") {
			return
		}
		if f["Package"] == "" || f["Version"] == "" {
			p.Skipped++
			return
		}
		size, _ := strconv.ParseUint(f["Installed-Size"], 10, 64) // KiB
		p.add(inv.Package{Source: inv.SourceDpkg, Name: clean(f["Package"], inv.MaxName),
			Version: clean(f["Version"], inv.MaxShort), Arch: clean(f["Architecture"], inv.MaxShort),
			Publisher: publisher(f["Maintainer"]), SizeBytes: min(size, 1<<40) << 10})
	})
	return p
}

// rpmQueryFormat is the --queryformat the collector passes to rpm -qa: one
// tab-separated line per package.
const rpmQueryFormat = `%{NAME}\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\t%{ARCH}\t%{VENDOR}\t%{INSTALLTIME}\t%{SIZE}\n`

// parseRPM parses `rpm -qa --queryformat rpmQueryFormat`. rpm prints
// "(none)" for missing tags. Lines without six fields are skipped.
func parseRPM(b []byte) parsed {
	var p parsed
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		f := strings.Split(sc.Text(), "\t")
		if len(f) != 6 || f[0] == "" {
			p.Skipped++
			continue
		}
		for i := range f {
			if f[i] == "(none)" {
				f[i] = ""
			}
		}
		pkg := inv.Package{Source: inv.SourceRPM, Name: clean(f[0], inv.MaxName), Version: clean(f[1], inv.MaxShort),
			Arch: clean(f[2], inv.MaxShort), Publisher: clean(f[3], inv.MaxName)}
		if t, err := strconv.ParseInt(f[4], 10, 64); err == nil && t > 0 {
			pkg.InstallDate = time.Unix(t, 0).UTC()
		}
		pkg.SizeBytes, _ = strconv.ParseUint(f[5], 10, 64)
		p.add(pkg)
	}
	return p
}

// parseAPKInstalled reads Alpine's /lib/apk/db/installed: records of
// single-letter fields (P name, V version, A arch, m maintainer, I installed
// size). apk records no install time.
func parseAPKInstalled(b []byte) parsed {
	var p parsed
	stanzas(b, ":", func(f map[string]string) {
		if f["P"] == "" || f["V"] == "" {
			p.Skipped++
			return
		}
		size, _ := strconv.ParseUint(f["I"], 10, 64)
		p.add(inv.Package{Source: inv.SourceAPK, Name: clean(f["P"], inv.MaxName), Version: clean(f["V"], inv.MaxShort),
			Arch: clean(f["A"], inv.MaxShort), Publisher: publisher(f["m"]), SizeBytes: size})
	})
	return p
}

// flatpakColumns are the columns the collector asks `flatpak list` for.
const flatpakColumns = "application,version,branch,arch,origin"

// parseFlatpakList parses `flatpak list --columns=flatpakColumns`: tab-separated,
// no header when not on a terminal. The origin remote (e.g. "flathub") is
// the closest thing to a publisher flatpak records; the branch stands in for
// a missing version.
func parseFlatpakList(b []byte) parsed {
	var p parsed
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		f := strings.Split(sc.Text(), "\t")
		if len(f) != 5 || f[0] == "" || f[0] == "Application ID" {
			if len(f) != 5 || f[0] == "" {
				p.Skipped++
			}
			continue
		}
		version := f[1]
		if version == "" {
			version = f[2]
		}
		p.add(inv.Package{Source: inv.SourceFlatpak, Name: clean(f[0], inv.MaxName), Version: clean(version, inv.MaxShort),
			Arch: clean(f[3], inv.MaxShort), Publisher: clean(f[4], inv.MaxName)})
	}
	return p
}

// parseSnapList parses `snap list --unicode=never --color=never`: a header
// "Name Version Rev Tracking Publisher Notes", then space-aligned columns.
// Verified publishers carry a trailing "*" (or "✓"), which is dropped.
func parseSnapList(b []byte) parsed {
	var p parsed
	sc := bufio.NewScanner(bytes.NewReader(b))
	header := true
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if header {
			header = false
			if f[0] == "Name" {
				continue
			}
		}
		if len(f) < 5 {
			p.Skipped++
			continue
		}
		pub := strings.TrimRight(f[4], "*✓✪")
		if pub == "-" {
			pub = ""
		}
		p.add(inv.Package{Source: inv.SourceSnap, Name: clean(f[0], inv.MaxName), Version: clean(f[1], inv.MaxShort),
			Publisher: clean(pub, inv.MaxName)})
	}
	return p
}

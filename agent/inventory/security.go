package inventory

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	inv "github.com/reachdesk/reach/proto/inventory"
)

// parseIptablesS parses `iptables -S` (filter table): the number of rules,
// and whether incoming traffic is filtered: the INPUT chain drops or rejects
// by default, or has rules of its own (rules in other chains alone, such as
// those Docker adds to FORWARD, do not filter the host's traffic).
func parseIptablesS(b []byte) (rules int, filtering bool) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) >= 2 && f[0] == "-A":
			rules++
			filtering = filtering || f[1] == "INPUT"
		case len(f) == 3 && f[0] == "-P" && f[1] == "INPUT":
			filtering = filtering || f[2] == "DROP" || f[2] == "REJECT"
		}
	}
	return rules, filtering
}

// parseNftRuleset parses `nft -j list ruleset`: the number of rules, and
// whether incoming traffic is filtered: a chain on the input hook drops by
// default or has rules.
func parseNftRuleset(b []byte) (rules int, filtering bool, err error) {
	var doc struct {
		Nftables []struct {
			Chain *nftRef `json:"chain"`
			Rule  *nftRef `json:"rule"`
		} `json:"nftables"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return 0, false, fmt.Errorf("nft JSON: %w", err)
	}
	input := map[nftRef]bool{}
	for _, obj := range doc.Nftables {
		if c := obj.Chain; c != nil && c.Hook == "input" {
			input[nftRef{Family: c.Family, Table: c.Table, Name: c.Name}] = true
			filtering = filtering || c.Policy == "drop"
		}
	}
	for _, obj := range doc.Nftables {
		if r := obj.Rule; r != nil {
			rules++
			filtering = filtering || input[nftRef{Family: r.Family, Table: r.Table, Name: r.Chain}]
		}
	}
	return rules, filtering, nil
}

// nftRef holds the fields of nft's chain and rule objects the parser uses.
type nftRef struct {
	Family string `json:"family"`
	Table  string `json:"table"`
	Name   string `json:"name"`
	Chain  string `json:"chain"`
	Hook   string `json:"hook"`
	Policy string `json:"policy"`
}

// ufwEnabled reads ENABLED= from /etc/ufw/ufw.conf.
func ufwEnabled(conf []byte) bool {
	return strings.Contains(string(conf), "\nENABLED=yes") || bytes.HasPrefix(conf, []byte("ENABLED=yes"))
}

// parseAptSimulate parses `apt-get -s dist-upgrade`: one "Inst name [old]
// (new origin…)" line per package to upgrade or install; those whose origin
// is a security archive count as security updates.
func parseAptSimulate(b []byte) inv.Updates {
	u := inv.Updates{Status: inv.Known("apt-get -s dist-upgrade"), Packages: []string{}}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "Inst ")
		if !ok {
			continue
		}
		name, _, _ := strings.Cut(rest, " ")
		u.Pending++
		if strings.Contains(rest, "-security") || strings.Contains(rest, "Debian-Security:") {
			u.Security++
		}
		if len(u.Packages) < inv.MaxUpdates {
			u.Packages = append(u.Packages, clean(name, inv.MaxName))
		}
	}
	return u
}

// parseDnfCheckUpdate parses `dnf -q -C check-update`: "name.arch version
// repo" lines, and after "Obsoleting Packages" the packages they replace
// (not counted). dnf does not tell security updates apart here.
func parseDnfCheckUpdate(b []byte) inv.Updates {
	u := inv.Updates{Status: inv.Known("dnf check-update"), Packages: []string{}}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "Obsoleting") {
			break
		}
		f := strings.Fields(line)
		if len(f) != 3 || strings.HasPrefix(line, " ") || !strings.Contains(f[0], ".") {
			continue
		}
		u.Pending++
		if len(u.Packages) < inv.MaxUpdates {
			name := f[0][:strings.LastIndexByte(f[0], '.')]
			u.Packages = append(u.Packages, clean(name, inv.MaxName))
		}
	}
	return u
}

// parseApkVersion parses `apk version -l '<'`: "name-1.2-r0 < 1.3-r0" lines
// after an "Installed:" header.
func parseApkVersion(b []byte) inv.Updates {
	u := inv.Updates{Status: inv.Known("apk version"), Packages: []string{}}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 || f[1] != "<" {
			continue
		}
		u.Pending++
		name := f[0]
		// Strip "-version-rN": the version starts after the last '-' that is
		// followed by a digit, before the release.
		if i := strings.LastIndex(name, "-r"); i > 0 {
			if j := strings.LastIndexByte(name[:i], '-'); j > 0 {
				name = name[:j]
			}
		}
		if len(u.Packages) < inv.MaxUpdates {
			u.Packages = append(u.Packages, clean(name, inv.MaxName))
		}
	}
	return u
}

package inventory

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"

	inv "github.com/reachdesk/reach/proto/inventory"
)

// Regular accounts have uids in [minUserUID, maxUserUID] (the Debian and
// Red Hat defaults of UID_MIN and UID_MAX in login.defs); root is kept too.
const (
	minUserUID = 1000
	maxUserUID = 60000
)

// parsePasswd returns root and the regular accounts in passwd(5) data.
// Malformed lines and NIS "+" entries are skipped.
func parsePasswd(b []byte) []inv.Account {
	accounts := []inv.Account{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Split(sc.Text(), ":")
		if len(f) != 7 || f[0] == "" || f[0][0] == '+' || f[0][0] == '-' {
			continue
		}
		uid, err := strconv.ParseUint(f[2], 10, 32)
		if err != nil || (uid != 0 && (uid < minUserUID || uid > maxUserUID)) || len(accounts) == inv.MaxAccounts {
			continue
		}
		full, _, _ := strings.Cut(f[4], ",") // GECOS: full name, room, phones
		shell := clean(f[6], inv.MaxLong)
		accounts = append(accounts, inv.Account{
			Name: clean(f[0], inv.MaxShort), ID: f[2], FullName: clean(full, inv.MaxName),
			Home: clean(f[5], inv.MaxLong), Shell: shell,
			Disabled: strings.HasSuffix(shell, "/nologin") || strings.HasSuffix(shell, "/false"),
		})
	}
	return accounts
}

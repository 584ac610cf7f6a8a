package console

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestErrors(t *testing.T) {
	err := fmt.Errorf("sqlite: create user: %w", Errorf(CodeConflict, "email taken"))
	if !errors.Is(err, ErrConflict) || errors.Is(err, ErrNotFound) {
		t.Errorf("errors.Is does not match by code: %v", err)
	}
	for _, tc := range []struct {
		err  error
		code Code
		msg  string
	}{
		{nil, "", ""},
		{err, CodeConflict, "email taken"},
		{ErrEnrollmentRefused, CodeUnauthorized, "invalid or expired enrollment token"},
		{errors.New("pq: password authentication failed"), CodeInternal, "internal error"},
	} {
		if got := ErrorCode(tc.err); got != tc.code {
			t.Errorf("ErrorCode(%v) = %q, want %q", tc.err, got, tc.code)
		}
		if got := ErrorMessage(tc.err); got != tc.msg {
			t.Errorf("ErrorMessage(%v) = %q, want %q", tc.err, got, tc.msg)
		}
	}
}

func TestVersionKeyOrder(t *testing.T) {
	// Each line sorts strictly after the previous one; "=" joins equal versions.
	order := []string{
		"", "0.9", "1", "1.0.1", "1.2", "1.2.1", "1.2a", "1.10", "2 = 2.0 = 2.0.0 = v2 = 02",
		"2.0-beta", "9.9.9", "10", "119.0.6045.199", "120 = 120.0", "120.0.6099.71", "1000",
		"2024.01", "20240101",
	}
	var prev string
	for i, line := range order {
		eq := strings.Split(line, " = ")
		key := VersionKey(eq[0])
		for _, v := range eq[1:] {
			if k := VersionKey(v); k != key {
				t.Errorf("VersionKey(%q) = %q, want %q like %q", v, k, key, eq[0])
			}
		}
		if i > 0 && key <= prev {
			t.Errorf("VersionKey(%q) = %q does not sort after %q (%q)", eq[0], key, order[i-1], prev)
		}
		prev = key
	}
}

// refCompare compares versions by their tokens: numbers numerically,
// letters after numbers, missing tokens first, trailing zeros ignored.
func refCompare(a, b string) int {
	ta, tb := refTokens(a), refTokens(b)
	for i := 0; i < len(ta) && i < len(tb); i++ {
		x, y := ta[i], tb[i]
		xn, yn := x[0] >= '0' && x[0] <= '9', y[0] >= '0' && y[0] <= '9'
		switch {
		case xn && !yn:
			return -1
		case !xn && yn:
			return 1
		case xn && len(x) != len(y):
			return cmpInt(len(x), len(y))
		}
		if c := strings.Compare(x, y); c != 0 {
			return c
		}
	}
	return cmpInt(len(ta), len(tb))
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func refTokens(v string) []string {
	var out []string
	v = strings.Map(func(r rune) rune { // ASCII only, like VersionKey
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, v)
	if len(v) > 1 && v[0] == 'v' && v[1] >= '0' && v[1] <= '9' {
		v = v[1:]
	}
	for i := 0; i < len(v) && len(out) < maxVersionTokens; {
		j := i
		switch c := v[i]; {
		case c >= '0' && c <= '9':
			for j < len(v) && v[j] >= '0' && v[j] <= '9' {
				j++
			}
			n := strings.TrimLeft(v[i:j], "0")
			if n == "" {
				n = "0"
			}
			out = append(out, n[:min(len(n), maxTokenLen)])
		case c >= 'a' && c <= 'z':
			for j < len(v) && v[j] >= 'a' && v[j] <= 'z' {
				j++
			}
			out = append(out, v[i:min(j, i+maxTokenLen)])
		default:
			j++
		}
		i = j
	}
	for len(out) > 0 && out[len(out)-1] == "0" {
		out = out[:len(out)-1]
	}
	return out
}

func FuzzVersionKey(f *testing.F) {
	for _, s := range [][2]string{{"1.2.3", "1.10"}, {"120", "120.0.1"}, {"2.0-beta", "2.0"}, {"007", "7"}, {"1.2a", "1.2.1"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ka, kb := VersionKey(a), VersionKey(b)
		if got, want := strings.Compare(ka, kb), refCompare(a, b); got != want {
			t.Errorf("VersionKey(%q)=%q vs VersionKey(%q)=%q compare %d, want %d", a, ka, b, kb, got, want)
		}
	})
}

func TestParseSoftwareQuery(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want SoftwareQuery
		err  bool
	}{
		{"Chrome < 120", SoftwareQuery{"Chrome", VersionLT, "120"}, false},
		{"Google Chrome<=120.0.1", SoftwareQuery{"Google Chrome", VersionLE, "120.0.1"}, false},
		{"firefox == 115", SoftwareQuery{"firefox", VersionEQ, "115"}, false},
		{"firefox = 115", SoftwareQuery{"firefox", VersionEQ, "115"}, false},
		{"7-Zip >= 23.01", SoftwareQuery{"7-Zip", VersionGE, "23.01"}, false},
		{"vlc>3", SoftwareQuery{"vlc", VersionGT, "3"}, false},
		{"  Notepad++  ", SoftwareQuery{Name: "Notepad++"}, false},
		{"< 120", SoftwareQuery{}, true},
		{"Chrome <", SoftwareQuery{}, true},
		{"Chrome < ...", SoftwareQuery{}, true},
		{"", SoftwareQuery{}, true},
	} {
		got, err := ParseSoftwareQuery(tc.in)
		if (err != nil) != tc.err {
			t.Errorf("ParseSoftwareQuery(%q) error %v, want error %v", tc.in, err, tc.err)
		}
		if !tc.err && got != tc.want {
			t.Errorf("ParseSoftwareQuery(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
		if tc.err && ErrorCode(err) != CodeInvalid {
			t.Errorf("ParseSoftwareQuery(%q) error code %q", tc.in, ErrorCode(err))
		}
	}
}

func FuzzParseSoftwareQuery(f *testing.F) {
	for _, s := range []string{"Chrome < 120", "a<=b", "==", "x >= 1.2.3-beta", "\x00<1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := ParseSoftwareQuery(s)
		if err == nil {
			if verr := q.Validate(); verr != nil {
				t.Errorf("ParseSoftwareQuery(%q) = %+v that does not validate: %v", s, q, verr)
			}
		} else if ErrorCode(err) != CodeInvalid {
			t.Errorf("ParseSoftwareQuery(%q): error %v is not invalid input", s, err)
		}
	})
}

func TestCursor(t *testing.T) {
	c := Cursor{Sort: "due", Key: "1740000000000000", ID: 42}
	got, err := DecodeCursor(c.Encode(), "due")
	if err != nil || *got != c {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	if got, err := DecodeCursor("", "due"); got != nil || err != nil {
		t.Errorf("empty cursor = %+v, %v", got, err)
	}
	for _, bad := range []string{c.Encode() + "x", "%%%", strings.Repeat("a", maxCursorLen+1), Cursor{Sort: "newest"}.Encode()} {
		if _, err := DecodeCursor(bad, "due"); ErrorCode(err) != CodeInvalid {
			t.Errorf("DecodeCursor(%q) error %v, want invalid", bad, err)
		}
	}
}

func FuzzDecodeCursor(f *testing.F) {
	f.Add(Cursor{Sort: "due", Key: "inf", ID: 1}.Encode())
	f.Add("eyJzIjoibmFtZSIsImsiOiJ4IiwiaSI6MX0")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := DecodeCursor(s, "name")
		if err != nil {
			if ErrorCode(err) != CodeInvalid {
				t.Errorf("DecodeCursor(%q): %v is not invalid input", s, err)
			}
			return
		}
		if c != nil && c.Sort != "name" {
			t.Errorf("DecodeCursor(%q) accepted sort %q", s, c.Sort)
		}
	})
}

func TestTicketApply(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	tk := &Ticket{Title: "x", Status: StatusResolved, Priority: P3, Level: L1, ResolvedAt: now}
	upd := TicketUpdate{Status: ptr(StatusReopened), ResolvedAt: &time.Time{}, Level: ptr(L2), Title: ptr("x"), AssigneeID: ptr(int64(7))}
	got := upd.Apply(tk)
	want := []FieldChange{
		{"status", "resolved", "reopened"},
		{"assignee", "", "7"},
		{"level", "L1", "L2"},
		{"resolved_at", "2026-03-02T09:00:00Z", ""},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("changes:\n got  %+v\n want %+v", got, want)
	}
	if tk.ReopenCount != 1 || tk.Status != StatusReopened || !tk.ResolvedAt.IsZero() || tk.AssigneeID != 7 {
		t.Errorf("ticket after Apply: %+v", tk)
	}
	if ch := (&TicketUpdate{Status: ptr(StatusReopened)}).Apply(tk); len(ch) != 0 || tk.ReopenCount != 1 {
		t.Errorf("no-op update changed %v, reopen count %d", ch, tk.ReopenCount)
	}
}

func TestEnrollmentTokenUsable(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	ok := EnrollmentToken{ExpiresAt: now.Add(time.Minute), MaxUses: 2, Uses: 1}
	for name, tc := range map[string]struct {
		mod  func(*EnrollmentToken)
		want bool
	}{
		"fresh":    {func(*EnrollmentToken) {}, true},
		"used up":  {func(t *EnrollmentToken) { t.Uses = 2 }, false},
		"revoked":  {func(t *EnrollmentToken) { t.Revoked = true }, false},
		"expiring": {func(t *EnrollmentToken) { t.ExpiresAt = now }, false},
	} {
		tok := ok
		tc.mod(&tok)
		if got := tok.Usable(now); got != tc.want {
			t.Errorf("%s: Usable = %v, want %v", name, got, tc.want)
		}
	}
}

func TestSLAState(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	h := time.Hour
	for _, tc := range []struct {
		name string
		t    Ticket
		want SLAState
	}{
		{"no deadlines", Ticket{Status: StatusOpen}, SLANone},
		{"response overdue", Ticket{Status: StatusOpen, FirstResponseDue: now.Add(-h), ResolutionDue: now.Add(5 * h)}, SLABreached},
		{"responded, resolution far", Ticket{Status: StatusOpen, FirstResponseDue: now.Add(-h), FirstRespondedAt: now.Add(-2 * h),
			ResolutionDue: now.Add(5 * h)}, SLAOK},
		{"resolution soon", Ticket{Status: StatusOpen, ResolutionDue: now.Add(30 * time.Minute)}, SLAWarning},
		{"earliest deadline wins", Ticket{Status: StatusNew, FirstResponseDue: now.Add(3 * h), ResolutionDue: now.Add(-h)}, SLABreached},
		{"paused", Ticket{Status: StatusPending, PausedAt: now.Add(-h), FirstResponseDue: now.Add(-h)}, SLAPaused},
		{"resolved", Ticket{Status: StatusResolved, ResolutionDue: now.Add(-h), PausedAt: now}, SLANone},
		{"due exactly now", Ticket{Status: StatusOpen, ResolutionDue: now}, SLAWarning},
	} {
		if got := tc.t.SLAState(now, h); got != tc.want {
			t.Errorf("%s: SLAState = %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestSearchWords(t *testing.T) {
	got := SearchWords("VPN-Client fails: error 809 (Café Wi-Fi) ann@example.com")
	want := []string{"vpn", "client", "fails", "error", "809", "café", "wi", "fi", "ann", "example", "com"}
	if !slices.Equal(got, want) {
		t.Errorf("SearchWords = %q, want %q", got, want)
	}
	if n, ok := TicketNumber("#42"); !ok || n != 42 {
		t.Errorf("TicketNumber(#42) = %d, %v", n, ok)
	}
	for _, s := range []string{"42", "#", "#-1", "#0", "#x"} {
		if _, ok := TicketNumber(s); ok {
			t.Errorf("TicketNumber(%q) accepted", s)
		}
	}
}

func TestEffectivePermissions(t *testing.T) {
	tech := &User{ID: 1, Role: RoleTechnician, Level: L1}
	grants := []*Grant{
		{GroupID: 1, UserID: 1, Permissions: PermControl},
		{GroupID: 1, Role: RoleTechnician, Permissions: PermView},
		{GroupID: 1, UserID: 2, Permissions: PermFiles},
		{GroupID: 1, Role: RoleViewer, Permissions: PermAll},
	}
	for _, tc := range []struct {
		u    *User
		want Permissions
	}{
		{tech, PermView | PermControl},
		{&User{ID: 3, Role: RoleViewer}, PermView},
		{&User{ID: 4, Role: RoleAdmin}, PermAll},
		{&User{ID: 1, Role: RoleTechnician, Level: L1, Disabled: true}, 0},
	} {
		if got := EffectivePermissions(tc.u, grants); got != tc.want {
			t.Errorf("EffectivePermissions(%+v) = %s, want %s", tc.u, got, tc.want)
		}
	}
	if s := (PermView | PermFiles).String(); s != "view,files" {
		t.Errorf("String = %q", s)
	}
}

func TestInventoryDiffs(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	prev := NormalizeSoftware([]Software{{Name: "B", Version: "1"}, {Name: " A ", Version: "2"}, {Name: "A", Version: "2"}, {Name: "Py", Version: "3.11"}})
	next := NormalizeSoftware([]Software{{Name: "A", Version: "3"}, {Name: "C", Version: "1"}, {Name: "Py", Version: "3.11"}, {Name: "Py", Version: "3.12"}})
	if len(prev) != 3 || prev[0].Name != "A" {
		t.Fatalf("NormalizeSoftware = %+v", prev)
	}
	var got []string
	for _, c := range DiffSoftware(9, at, prev, next) {
		got = append(got, fmt.Sprintf("%s %s %q->%q", c.Op, c.Key, c.Old, c.New))
	}
	want := []string{`updated A "2"->"3"`, `removed B "1"->""`, `added C ""->"1"`, `updated Py "3.11"->"3.11, 3.12"`}
	if !slices.Equal(got, want) {
		t.Errorf("DiffSoftware:\n got  %q\n want %q", got, want)
	}
	removed, added := SoftwareDelta(prev, next)
	if len(removed) != 2 || len(added) != 3 {
		t.Errorf("SoftwareDelta = %+v, %+v", removed, added)
	}
	secs := DiffSections(9, at, map[string]string{"os": "a", "hw": "b"}, map[string]string{"os": "a2", "net": "c"})
	if len(secs) != 3 || secs[0].Section != "hw" || secs[0].New != "" || secs[1].Section != "net" || secs[1].Old != "" {
		t.Errorf("DiffSections = %+v", deref(secs))
	}
	r := InventoryReport{Disks: []Disk{{Mount: "/", TotalBytes: 200, UsedBytes: 150}, {Mount: "/x", TotalBytes: 0}}}
	if p := r.DiskUsedPercent(); p != 75 {
		t.Errorf("DiskUsedPercent = %v", p)
	}
}

func TestValidateBounds(t *testing.T) {
	long := strings.Repeat("x", MaxTextLen+1)
	for name, err := range map[string]error{
		"ticket description": (&Ticket{Title: "t", Description: long, Channel: ChannelEmail, Priority: P1, Status: StatusNew, Level: L1}).Validate(),
		"comment":            (&Comment{TicketID: 1, Body: long}).Validate(),
		"NUL in name":        (&User{Email: "a@b.c", Name: "a\x00b", Role: RoleViewer}).Validate(),
		"bad UTF-8":          (&Team{Name: "\xff"}).Validate(),
		"inventory size":     (&InventoryReport{DeviceID: 1, SchemaVersion: 1, Raw: []byte(`"` + strings.Repeat("x", MaxInventoryBytes) + `"`)}).Validate(),
		"too many packages":  (&InventoryReport{DeviceID: 1, SchemaVersion: 1, Raw: []byte("{}"), Software: make([]Software, MaxSoftware+1)}).Validate(),
		"disk overfull":      (&InventoryReport{DeviceID: 1, SchemaVersion: 1, Raw: []byte("{}"), Disks: []Disk{{Mount: "/", TotalBytes: 1, UsedBytes: 2}}}).Validate(),
		"event detail":       (&SessionEvent{SessionID: 1, Source: SourceAgent, Type: "x", Detail: []byte(`"` + strings.Repeat("x", MaxDetailBytes) + `"`)}).Validate(),
		"token uses":         (&EnrollmentToken{GroupID: 1, Name: "x", SecretHash: make([]byte, 32), ExpiresAt: time.Now(), MaxUses: MaxEnrollmentUses + 1}).Validate(),
		"holiday":            (&BusinessCalendar{Holidays: []string{"25.12.2026"}}).Validate(),
		"period":             (Period{From: time.Now(), To: time.Now().Add(-time.Hour)}).Validate(),
	} {
		if ErrorCode(err) != CodeInvalid {
			t.Errorf("%s: Validate = %v, want invalid", name, err)
		}
	}
	if PageLimit(0) != DefaultPageSize || PageLimit(MaxPageSize+1) != MaxPageSize || PageLimit(7) != 7 {
		t.Error("PageLimit bounds")
	}
}

func ptr[T any](v T) *T { return &v }

func deref[T any](ps []*T) []T {
	out := make([]T, len(ps))
	for i, p := range ps {
		out[i] = *p
	}
	return out
}

package console

import (
	"strings"
)

// VersionOp compares a package's version with a query's version.
type VersionOp string

// Version comparisons. The zero VersionOp matches any version.
const (
	VersionAny VersionOp = ""
	VersionLT  VersionOp = "<"
	VersionLE  VersionOp = "<="
	VersionEQ  VersionOp = "="
	VersionGE  VersionOp = ">="
	VersionGT  VersionOp = ">"
)

// SoftwareQuery selects devices by installed software, e.g. "Chrome < 120".
type SoftwareQuery struct {
	Name    string // case-insensitive substring of the package name
	Op      VersionOp
	Version string // compared with VersionKey; required unless Op is VersionAny
}

// Validate checks the query's fields and bounds.
func (q *SoftwareQuery) Validate() error {
	if err := checkText("software name", q.Name, MaxSoftwareNameLen, true); err != nil {
		return err
	}
	switch q.Op {
	case VersionAny:
		return nil
	case VersionLT, VersionLE, VersionEQ, VersionGE, VersionGT:
	default:
		return Errorf(CodeInvalid, "unknown version comparison %q", q.Op)
	}
	if err := checkText("software version", q.Version, MaxVersionLen, true); err != nil {
		return err
	}
	if VersionKey(q.Version) == "" {
		return Errorf(CodeInvalid, "software version has no digits or letters")
	}
	return nil
}

// ParseSoftwareQuery parses "name", or "name op version" with op one of
// < <= = == >= >, e.g. "Google Chrome < 120".
func ParseSoftwareQuery(s string) (SoftwareQuery, error) {
	i := strings.IndexAny(s, "<>=")
	if i < 0 {
		q := SoftwareQuery{Name: strings.TrimSpace(s)}
		return q, q.Validate()
	}
	rest := s[i:]
	op, n := VersionOp(rest[:1]), 1
	switch {
	case strings.HasPrefix(rest, "<="):
		op, n = VersionLE, 2
	case strings.HasPrefix(rest, ">="):
		op, n = VersionGE, 2
	case strings.HasPrefix(rest, "=="):
		op, n = VersionEQ, 2
	}
	q := SoftwareQuery{Name: strings.TrimSpace(s[:i]), Op: op, Version: strings.TrimSpace(rest[n:])}
	return q, q.Validate()
}

// Version key bounds.
const (
	maxVersionTokens = 16
	maxTokenLen      = 35 // fits one length character, 0-9a-z
)

// VersionKey returns a string whose byte order is the order of versions, so
// that version comparisons become indexed string comparisons.
//
// A version splits into runs of digits and runs of letters; anything else
// separates. A digit run compares as a number, a letter run case-insensitively
// and after any number in the same position, a missing run before any run,
// and trailing zero runs are dropped: 1.2 < 1.2.1 < 1.2a < 1.10, and
// 120 = 120.0.0 = v120. Pre-release tags therefore sort after their release
// (1.0-beta > 1.0), the usual price of one ordering for every vendor.
// The key is empty only for a version without digits or letters.
//
// Encoding: a number is its digit count as one character (0-9, then a-z)
// followed by its digits without leading zeros; a letter run is '~' and the
// letters; runs are joined by '.', which sorts below every other character.
func VersionKey(v string) string {
	if len(v) > 1 && lower(v[0]) == 'v' && isDigit(v[1]) {
		v = v[1:] // "v1.2" is "1.2"
	}
	var tokens []string
	for i := 0; i < len(v) && len(tokens) < maxVersionTokens; {
		c := lower(v[i])
		j := i
		switch {
		case isDigit(c):
			for j < len(v) && isDigit(v[j]) {
				j++
			}
			tokens = append(tokens, numberKey(v[i:j]))
		case isLetter(c):
			for j < len(v) && isLetter(lower(v[j])) {
				j++
			}
			tokens = append(tokens, "~"+strings.ToLower(v[i:min(j, i+maxTokenLen)]))
		default:
			j++
		}
		i = j
	}
	for len(tokens) > 0 && tokens[len(tokens)-1] == "0" {
		tokens = tokens[:len(tokens)-1]
	}
	return strings.Join(tokens, ".")
}

// numberKey encodes a run of digits as its length character and digits.
func numberKey(d string) string {
	d = strings.TrimLeft(d, "0")
	if len(d) > maxTokenLen {
		d = d[:maxTokenLen]
	}
	const lengths = "0123456789abcdefghijklmnopqrstuvwxyz"
	return lengths[len(d):len(d)+1] + d
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c >= 'a' && c <= 'z' }

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

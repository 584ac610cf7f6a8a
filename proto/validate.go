package proto

import (
	"unicode"
	"unicode/utf8"
)

// checkToken bounds an identifier-like field: ASCII letters, digits and
// "._:-" only, at most max bytes, and present when required.
func checkToken(field, s string, max int, required bool) error {
	if s == "" {
		if required {
			return Errorf(CodeBadRequest, "%s is required", field)
		}
		return nil
	}
	if len(s) > max {
		return Errorf(CodeTooLarge, "%s is longer than %d bytes", field, max)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-') {
			return Errorf(CodeBadRequest, "%s has a character outside [A-Za-z0-9._:-]", field)
		}
	}
	return nil
}

// checkText bounds human-readable text: valid UTF-8, no control characters
// other than tab and newline (when multiline), at most max bytes.
func checkText(field, s string, max int, multiline bool) error {
	if len(s) > max {
		return Errorf(CodeTooLarge, "%s is longer than %d bytes", field, max)
	}
	if !utf8.ValidString(s) {
		return Errorf(CodeBadRequest, "%s is not valid UTF-8", field)
	}
	for _, r := range s {
		if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\r' || r == '\t')) {
			return Errorf(CodeBadRequest, "%s contains a control character", field)
		}
	}
	return nil
}

// checkList bounds a list's length.
func checkList(field string, n, max int) error {
	if n > max {
		return Errorf(CodeTooLarge, "%s has more than %d entries", field, max)
	}
	return nil
}

// ValidCode reports whether s is a well-formed session code: CodeDigits ASCII digits.
func ValidCode(s string) bool {
	if len(s) != CodeDigits {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

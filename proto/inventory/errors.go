package inventory

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error returned by Decode, Validate and Apply wraps
// one of them; test with errors.Is.
var (
	// ErrTooLarge: the document, a string or a list is over its bound.
	ErrTooLarge = errors.New("inventory: too large")
	// ErrInvalid: malformed JSON, a missing required value, a value outside
	// its allowed set, or text with invalid UTF-8 or control characters.
	ErrInvalid = errors.New("inventory: invalid")
	// ErrUnsupportedSchema: the report's schema version is not SchemaVersion.
	ErrUnsupportedSchema = errors.New("inventory: unsupported schema version")
	// ErrHashMismatch: a section's content does not match its stated hash, or
	// a delta does not produce the state it claims.
	ErrHashMismatch = errors.New("inventory: hash mismatch")
	// ErrBaseMismatch: a delta was computed against a state the console does
	// not hold; the console asks the agent for a full report.
	ErrBaseMismatch = errors.New("inventory: delta base does not match")
)

// FieldError locates a validation failure: Field is a path such as
// "software.packages[3].name" and Err one of the sentinels.
type FieldError struct {
	Field string
	Err   error
	Msg   string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("inventory: %s: %s", e.Field, e.Msg)
}

// Unwrap returns the sentinel.
func (e *FieldError) Unwrap() error { return e.Err }

func tooLarge(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Err: ErrTooLarge, Msg: fmt.Sprintf(format, args...)}
}

func invalid(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Err: ErrInvalid, Msg: fmt.Sprintf(format, args...)}
}

// within prefixes err's field path with prefix ("disks[2]" + "serial").
// Errors that are not *FieldError are returned unchanged.
func within(prefix string, err error) error {
	var fe *FieldError
	if err == nil || !errors.As(err, &fe) {
		return err
	}
	field := prefix
	if fe.Field != "" {
		if fe.Field[0] == '[' {
			field += fe.Field
		} else {
			field += "." + fe.Field
		}
	}
	return &FieldError{Field: field, Err: fe.Err, Msg: fe.Msg}
}

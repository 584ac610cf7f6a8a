package console

import (
	"errors"
	"fmt"
)

// Code classifies an Error. The HTTP layer maps each code to a status.
type Code string

// Error codes.
const (
	CodeInvalid      Code = "invalid"      // the input fails validation
	CodeNotFound     Code = "not_found"    // the record does not exist
	CodeConflict     Code = "conflict"     // a unique key or version clash, or the record is in use
	CodeUnauthorized Code = "unauthorized" // a credential is unknown, expired, revoked or used up
	CodeForbidden    Code = "forbidden"    // the caller may not do this
	CodeInternal     Code = "internal"     // anything else; its text never reaches a client
)

// Sentinel errors. errors.Is(err, ErrNotFound) holds for every *Error with
// CodeNotFound, whatever its message.
var (
	ErrInvalid      = &Error{Code: CodeInvalid, Message: "invalid input"}
	ErrNotFound     = &Error{Code: CodeNotFound, Message: "not found"}
	ErrConflict     = &Error{Code: CodeConflict, Message: "conflict"}
	ErrUnauthorized = &Error{Code: CodeUnauthorized, Message: "unauthorized"}
	ErrForbidden    = &Error{Code: CodeForbidden, Message: "forbidden"}
)

// Error is a domain error: a Code and a Message that is safe to show to a
// client. Internal causes are wrapped with fmt.Errorf instead and surface as
// CodeInternal.
type Error struct {
	Code    Code
	Message string
}

// Errorf returns an *Error with code and a formatted, client-safe message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Error implements error.
func (e *Error) Error() string { return fmt.Sprintf("console: %s: %s", e.Code, e.Message) }

// Is reports whether target is an *Error with the same code, so that the
// sentinels match any message.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// ErrorCode returns the code of the first *Error in err's chain, "" for a nil
// err and CodeInternal for any other error.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// ErrorMessage returns the client-safe message of the first *Error in err's
// chain, or "internal error" for any other error.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

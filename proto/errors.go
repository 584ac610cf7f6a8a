package proto

import (
	"errors"
	"fmt"
)

// Code classifies a protocol error. Codes are stable strings sent on the wire
// in [ErrorBody]; clients switch on them, people read the message.
type Code string

// Error codes.
const (
	CodeBadRequest      Code = "bad_request"      // malformed envelope or body
	CodeUnknownType     Code = "unknown_type"     // type not in the registry
	CodeTooLarge        Code = "too_large"        // message or field over its limit
	CodeUpgradeRequired Code = "upgrade_required" // peer's version or capability too old
	CodeUnauthorized    Code = "unauthorized"     // missing, invalid or expired token
	CodeForbidden       Code = "forbidden"        // authenticated, but not allowed to do this
	CodeInvalidCode     Code = "invalid_code"     // session code invalid or expired (never says which)
	CodeRateLimited     Code = "rate_limited"     // too many attempts or messages
	CodeNotFound        Code = "not_found"        // device offline or session unknown
	CodeConflict        Code = "conflict"         // state does not allow this now
	CodeSessionEnded    Code = "session_ended"    // the session is over
	CodeInternal        Code = "internal"         // the relay failed; details are in its log only
)

// Error is a protocol error: a stable code and a message safe to show a peer.
type Error struct {
	Code Code
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Msg) }

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// CodeOf returns err's protocol code, or CodeInternal if err carries none.
func CodeOf(err error) Code {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Code
	}
	return CodeInternal
}

// ErrInvalidCode is the one answer to a wrong, expired or reused session code.
var ErrInvalidCode = &Error{Code: CodeInvalidCode, Msg: "invalid or expired code"}

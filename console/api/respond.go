package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/reachdesk/reach/console"
)

// apiError is an error with its HTTP status and a client-safe message.
type apiError struct {
	status     int
	code       string
	msg        string
	retryAfter time.Duration
}

func (e *apiError) Error() string { return fmt.Sprintf("api: %d %s: %s", e.status, e.code, e.msg) }

// Errors the API raises itself.
func errBadRequest(format string, args ...any) error {
	return &apiError{status: http.StatusBadRequest, code: string(console.CodeInvalid), msg: fmt.Sprintf(format, args...)}
}

func errForbidden(msg string) error {
	return &apiError{status: http.StatusForbidden, code: string(console.CodeForbidden), msg: msg}
}

func errUnauthorized(msg string) error {
	return &apiError{status: http.StatusUnauthorized, code: string(console.CodeUnauthorized), msg: msg}
}

func errNotFound(what string) error {
	return &apiError{status: http.StatusNotFound, code: string(console.CodeNotFound), msg: what + " not found"}
}

func errConflict(msg string) error {
	return &apiError{status: http.StatusConflict, code: string(console.CodeConflict), msg: msg}
}

func errUnavailable(msg string) error {
	return &apiError{status: http.StatusServiceUnavailable, code: "unavailable", msg: msg}
}

// statusOf maps domain codes to HTTP statuses.
var statusOf = map[console.Code]int{
	console.CodeInvalid:      http.StatusBadRequest,
	console.CodeNotFound:     http.StatusNotFound,
	console.CodeConflict:     http.StatusConflict,
	console.CodeUnauthorized: http.StatusUnauthorized,
	console.CodeForbidden:    http.StatusForbidden,
}

// toAPIError maps any error to what the client sees: *apiError as is,
// *console.Error by its code with its message, anything else as a 500
// "internal error".
func toAPIError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	code := console.ErrorCode(err)
	if st, ok := statusOf[code]; ok {
		return &apiError{status: st, code: string(code), msg: console.ErrorMessage(err)}
	}
	return &apiError{status: http.StatusInternalServerError, code: string(console.CodeInternal), msg: "internal error"}
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, e *apiError) {
	var b errorBody
	b.Error.Code, b.Error.Message = e.code, e.msg
	writeJSON(w, e.status, b)
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	enc.Encode(v)
}

// decode reads one JSON object from the body into v: at most max bytes,
// no unknown fields, nothing after it. Errors are client-safe 400s and 413s.
func decode(w http.ResponseWriter, r *http.Request, max int64, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		return &apiError{status: http.StatusUnsupportedMediaType, code: "unsupported_media_type",
			msg: "request body must be application/json"}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, max))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err, max)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		if err != nil {
			if e := jsonError(err, max); e.(*apiError).status == http.StatusRequestEntityTooLarge {
				return e
			}
		}
		return errBadRequest("request body must hold one JSON value")
	}
	return nil
}

// jsonError explains a decoding error without echoing the input.
func jsonError(err error, max int64) error {
	var (
		syn  *json.SyntaxError
		typ  *json.UnmarshalTypeError
		tooL *http.MaxBytesError
	)
	switch {
	case errors.As(err, &tooL):
		return &apiError{status: http.StatusRequestEntityTooLarge, code: "too_large",
			msg: fmt.Sprintf("request body is larger than %d bytes", max)}
	case errors.As(err, &syn):
		return errBadRequest("malformed JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return errBadRequest("field %q must be %s", typ.Field, jsonKind(typ.Type.Kind().String()))
		}
		return errBadRequest("request body must be a JSON object")
	case errors.Is(err, io.EOF):
		return errBadRequest("request body is empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errBadRequest("malformed JSON: unexpected end")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.TrimPrefix(err.Error(), "json: unknown field ")
		if len(name) > 66 {
			name = name[:64] + `…"`
		}
		return errBadRequest("unknown field %s", name)
	}
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	return errBadRequest("malformed JSON")
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "an array"
	case "map", "struct":
		return "an object"
	}
	return "a number"
}

// pathID returns the positive integer path value name.
func pathID(r *http.Request, name string) (int64, error) {
	v, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || v <= 0 {
		return 0, errBadRequest("%s must be a positive integer", name)
	}
	return v, nil
}

// query reads typed query parameters, remembering the first error.
type query struct {
	r   *http.Request
	err error
}

func (q *query) str(name string, max int) string {
	v := q.r.URL.Query().Get(name)
	if len(v) > max && q.err == nil {
		q.err = errBadRequest("%s is longer than %d bytes", name, max)
	}
	return v
}

func (q *query) int(name string) int64 {
	v := q.r.URL.Query().Get(name)
	if v == "" {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if (err != nil || n < 0) && q.err == nil {
		q.err = errBadRequest("%s must be a non-negative integer", name)
	}
	return n
}

func (q *query) float(name string) float64 {
	v := q.r.URL.Query().Get(name)
	if v == "" {
		return 0
	}
	f, err := strconv.ParseFloat(v, 64)
	if (err != nil || f < 0 || f > 100) && q.err == nil {
		q.err = errBadRequest("%s must be a number from 0 to 100", name)
	}
	return f
}

func (q *query) bool(name string) bool {
	switch v := q.r.URL.Query().Get(name); v {
	case "", "false", "0":
		return false
	case "true", "1":
		return true
	}
	if q.err == nil {
		q.err = errBadRequest("%s must be true or false", name)
	}
	return false
}

func (q *query) time(name string) time.Time {
	v := q.r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil && q.err == nil {
		q.err = errBadRequest("%s must be an RFC 3339 time, e.g. 2026-03-02T09:00:00Z", name)
	}
	return t
}

// list is a page of items; Next is the cursor of the following page.
type list[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty"`
}

func newList[T any](items []T, next string) list[T] {
	if items == nil {
		items = []T{}
	}
	return list[T]{Items: items, Next: next}
}

// mapSlice converts every element of in.
func mapSlice[A, B any](in []A, f func(A) B) []B {
	out := make([]B, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// deleteByID returns a handler that deletes the resource named by the
// path's {id} with del and answers 204.
func (s *Server) deleteByID(del func(context.Context, int64) error) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, _ *principal) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		if err := del(r.Context(), id); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

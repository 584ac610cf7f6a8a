package inventory

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Decode parses and checks a full report from an agent: at most
// MaxReportSize bytes of strict JSON (one object, no unknown fields) with
// schema SchemaVersion, valid in every field, whose hashes match its
// sections. Errors wrap the sentinels in errors.go.
func Decode(data []byte) (*Report, error) {
	var r Report
	if err := decodeStrict(data, MaxReportSize, &r); err != nil {
		return nil, err
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	got, enc, err := r.Sections.encode()
	if err != nil {
		return nil, fmt.Errorf("inventory: decode: %w", err)
	}
	if err := matchHashes(got, r.Hashes); err != nil {
		return nil, err
	}
	r.encoded = enc
	return &r, nil
}

// DecodeDelta parses and checks a delta the way Decode checks a report. Only
// Apply can tell whether it fits the state the console holds.
func DecodeDelta(data []byte) (*Delta, error) {
	var d Delta
	if err := decodeStrict(data, MaxReportSize, &d); err != nil {
		return nil, err
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	if err := d.verify(); err != nil {
		return nil, err
	}
	return &d, nil
}

// DecodeDiag parses and checks a diagnostics report.
func DecodeDiag(data []byte) (*DiagReport, error) {
	var d DiagReport
	if err := decodeStrict(data, MaxDiagSize, &d); err != nil {
		return nil, err
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return &d, nil
}

// headed is a document that starts with a Header: Report, Delta, DiagReport.
type headed interface{ header() *Header }

func (h *Header) header() *Header { return h }

// decodeStrict decodes one JSON object of at most max bytes into v, refusing
// unknown fields and trailing data. Schema errors come first, so that a
// newer agent gets a clear ErrUnsupportedSchema rather than a complaint
// about the fields it added; the document is parsed once when it is fine
// and probed for its schema only when it is not.
func decodeStrict(data []byte, max int, v headed) error {
	if len(data) > max {
		return tooLarge("", "document is %d bytes, more than %d", len(data), max)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err != nil {
		err = invalid("", "%v", jsonError(err))
	} else if _, terr := dec.Token(); !errors.Is(terr, io.EOF) {
		err = invalid("", "trailing data after the JSON object")
	} else if v.header().Schema != SchemaVersion {
		err = invalid("schema", "is required") // unless the probe says better
	}
	if err == nil {
		return nil
	}
	if serr := checkSchema(data); serr != nil {
		return serr
	}
	return err
}

// checkSchema probes a document's schema field: ErrInvalid if the document
// is not a JSON object or has no schema, ErrUnsupportedSchema if it has
// another one.
func checkSchema(data []byte) error {
	var probe struct {
		Schema *int `json:"schema"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return invalid("", "not a JSON object: %v", jsonError(err))
	}
	if probe.Schema == nil {
		return invalid("schema", "is required")
	}
	if *probe.Schema != SchemaVersion {
		return &FieldError{Field: "schema", Err: ErrUnsupportedSchema,
			Msg: fmt.Sprintf("schema %d, this side speaks %d", *probe.Schema, SchemaVersion)}
	}
	return nil
}

// jsonError shortens encoding/json errors: they may quote input, which is
// bounded by the document size but need not be echoed whole.
func jsonError(err error) string {
	msg := err.Error()
	if len(msg) > MaxShort {
		msg = msg[:MaxShort] + "…"
	}
	return msg
}

package console

import (
	"encoding/base64"
	"encoding/json"
)

// Cursor is a keyset position: the sort key and ID of the last row of a
// page. Clients see it only encoded, as an opaque string.
type Cursor struct {
	Sort string `json:"s"`           // the ordering the cursor belongs to
	Key  string `json:"k,omitempty"` // the last row's sort value, as the store encodes it
	ID   int64  `json:"i"`           // the last row's ID
}

// maxCursorLen bounds an encoded cursor.
const maxCursorLen = 1024

// Encode returns the cursor as an opaque URL-safe string.
func (c Cursor) Encode() string {
	b, _ := json.Marshal(c) // cannot fail: strings and an int
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor decodes s, which must come from a cursor of the same sort;
// it returns nil for an empty s.
func DecodeCursor(s, sort string) (*Cursor, error) {
	if s == "" {
		return nil, nil
	}
	if len(s) > maxCursorLen {
		return nil, Errorf(CodeInvalid, "invalid cursor")
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, Errorf(CodeInvalid, "invalid cursor")
	}
	var c Cursor
	if err := json.Unmarshal(b, &c); err != nil || c.Sort != sort {
		return nil, Errorf(CodeInvalid, "invalid cursor")
	}
	return &c, nil
}

package proto

import (
	"encoding/json"
	"fmt"
)

// Type names a message. Each Type has one body type in the registry.
type Type string

// Envelope is the wire form of every message.
type Envelope struct {
	V    int             `json:"v"`
	Type Type            `json:"type"`
	ID   string          `json:"id,omitempty"`  // sender's correlation id; replies echo it
	SID  string          `json:"sid,omitempty"` // session the message belongs to
	Body json.RawMessage `json:"body,omitempty"`
}

// Body is a message body: it knows its type and validates its own fields.
type Body interface {
	MessageType() Type
	Validate() error
}

// Message is a decoded, validated envelope.
type Message struct {
	Type Type
	ID   string
	SID  string
	Body Body
}

// registry maps each Type to a constructor of its zero body.
var registry = map[Type]func() Body{}

func register(f func() Body) {
	t := f().MessageType()
	if _, dup := registry[t]; dup {
		panic("proto: duplicate message type " + string(t))
	}
	registry[t] = f
}

// Known reports whether t is a registered message type.
func Known(t Type) bool { _, ok := registry[t]; return ok }

// Decode parses and validates one message. Errors are *Error values whose
// code and message can be returned to the sender.
func Decode(data []byte) (*Message, error) {
	if len(data) > MaxMessageSize {
		return nil, Errorf(CodeTooLarge, "message of %d bytes exceeds %d", len(data), MaxMessageSize)
	}
	var env Envelope
	if err := json.Unmarshal(data, &env); err != nil {
		return nil, Errorf(CodeBadRequest, "malformed envelope: %s", jsonReason(err))
	}
	if env.V != Version {
		return nil, Errorf(CodeUpgradeRequired, "protocol version %d is not supported; speak version %d", env.V, Version)
	}
	if err := checkToken("type", string(env.Type), MaxTypeLen, true); err != nil {
		return nil, err
	}
	if err := checkToken("id", env.ID, MaxIDLen, false); err != nil {
		return nil, err
	}
	if err := checkToken("sid", env.SID, MaxIDLen, false); err != nil {
		return nil, err
	}
	newBody, ok := registry[env.Type]
	if !ok {
		return nil, Errorf(CodeUnknownType, "unknown message type %q", env.Type)
	}
	body := newBody()
	if len(env.Body) > 0 && string(env.Body) != "null" {
		if err := json.Unmarshal(env.Body, body); err != nil {
			return nil, Errorf(CodeBadRequest, "malformed %s body: %s", env.Type, jsonReason(err))
		}
	}
	if err := body.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", env.Type, err)
	}
	return &Message{Type: env.Type, ID: env.ID, SID: env.SID, Body: body}, nil
}

// Encode validates m's body and returns its wire form.
func Encode(id, sid string, body Body) ([]byte, error) {
	if err := body.Validate(); err != nil {
		return nil, fmt.Errorf("proto: encode %s: %w", body.MessageType(), err)
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("proto: encode %s: %w", body.MessageType(), err)
	}
	out, err := json.Marshal(Envelope{V: Version, Type: body.MessageType(), ID: id, SID: sid, Body: raw})
	if err != nil {
		return nil, fmt.Errorf("proto: encode %s: %w", body.MessageType(), err)
	}
	if len(out) > MaxMessageSize {
		return nil, Errorf(CodeTooLarge, "%s message of %d bytes exceeds %d", body.MessageType(), len(out), MaxMessageSize)
	}
	return out, nil
}

// jsonReason turns a decoding error into a short message that names the
// offending field or offset without echoing the peer's input back.
func jsonReason(err error) string {
	switch e := err.(type) {
	case *json.SyntaxError:
		return fmt.Sprintf("syntax error at offset %d", e.Offset)
	case *json.UnmarshalTypeError:
		if e.Field != "" {
			return fmt.Sprintf("field %q must be %s", e.Field, e.Type)
		}
		return fmt.Sprintf("value must be %s", e.Type)
	default:
		return "invalid JSON"
	}
}

package proto

import (
	"encoding/json"
	"fmt"
	"math"
)

// Data channels of a session. The technician's side creates them (it sends
// the offer); the agent refuses channels with other labels.
const (
	ChannelInput     = "input"     // technician → agent: pointer, buttons, wheel, keys, text
	ChannelControl   = "control"   // both ways: monitors, quality, keyframes, permissions, stats
	ChannelClipboard = "clipboard" // both ways: clipboard text
	ChannelChat      = "chat"      // both ways: chat lines
)

// DCType names a data-channel message.
type DCType string

// Data-channel message types, by channel.
const (
	// input
	DCPointer DCType = "pointer" // move to X, Y
	DCButton  DCType = "button"  // press or release Button at X, Y
	DCWheel   DCType = "wheel"   // scroll DX, DY
	DCKey     DCType = "key"     // press or release the key at Code
	DCText    DCType = "text"    // type Text
	DCCombo   DCType = "combo"   // press Keys together, then release (Ctrl+Alt+Del, …)

	// control
	DCMonitors    DCType = "monitors"    // agent: the displays there are and which is shown
	DCMonitor     DCType = "monitor"     // technician: show display Index (-1: all)
	DCQuality     DCType = "quality"     // technician: quality preference and caps
	DCKeyframe    DCType = "keyframe"    // technician: send a keyframe now
	DCViewOnly    DCType = "view_only"   // technician: stop or resume sending input
	DCPermissions DCType = "permissions" // agent: what is allowed now (after a revoke, say)
	DCStats       DCType = "stats"       // agent: sender statistics, about once a second

	// clipboard and chat
	DCClipboard DCType = "clipboard"
	DCChat      DCType = "chat"
)

// Data-channel limits.
const (
	MaxDCMessage  = 96 << 10 // one data-channel message, bytes
	MaxClipboard  = 64 << 10 // clipboard text, bytes
	MaxChat       = 4 << 10  // one chat line, bytes
	MaxTypedText  = 1024     // one text input message, bytes
	MaxKeyCode    = 32       // KeyboardEvent.code
	MaxComboKeys  = 6
	MaxWheelDelta = 10000
	MaxMonitors   = 16
)

// DCMessage is one data-channel message: a type and its fields, flat.
type DCMessage interface {
	DCType() DCType
	Validate() error
}

// Pointer moves the pointer. X and Y are normalized to the shown display (or
// the bounding box of all displays): 0 is the left/top edge, 1 the right/bottom.
type Pointer struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// Button presses or releases a mouse button at X, Y (normalized).
type Button struct {
	Button string  `json:"button"` // left, middle, right, back, forward
	Down   bool    `json:"down"`
	X      float64 `json:"x"`
	Y      float64 `json:"y"`
}

// Wheel scrolls by DX, DY pixels (positive: right, down), as in WheelEvent with deltaMode 0.
type Wheel struct {
	DX float64 `json:"dx"`
	DY float64 `json:"dy"`
}

// Modifiers held during a key event.
type Modifiers struct {
	Ctrl  bool `json:"ctrl,omitempty"`
	Alt   bool `json:"alt,omitempty"`
	Shift bool `json:"shift,omitempty"`
	Meta  bool `json:"meta,omitempty"`
}

// Key presses or releases a physical key, named by KeyboardEvent.code ("KeyA",
// "Enter", "ControlLeft", "F5"), so the layout of the end user's machine applies.
type Key struct {
	Code string    `json:"code"`
	Down bool      `json:"down"`
	Mods Modifiers `json:"mods"`
}

// Text types a string as the end user's keyboard would (for paste-as-typing
// and for characters a key code cannot express).
type Text struct {
	Text string `json:"text"`
}

// Combo presses Keys in order, then releases them in reverse: combinations
// the technician's browser keeps for itself (Ctrl+Alt+Del, Alt+Tab, Meta).
type Combo struct {
	Keys []string `json:"keys"`
}

// Monitor describes one display of the agent's machine.
type Monitor struct {
	Index   int    `json:"index"`
	Name    string `json:"name,omitempty"`
	X       int    `json:"x"`
	Y       int    `json:"y"`
	Width   int    `json:"width"`
	Height  int    `json:"height"`
	Primary bool   `json:"primary,omitempty"`
}

// Monitors lists the displays and which one is shown (-1: all).
type Monitors struct {
	Monitors []Monitor `json:"monitors"`
	Shown    int       `json:"shown"`
}

// MonitorSelect asks to show display Index (-1: all of them).
type MonitorSelect struct {
	Index int `json:"index"`
}

// Quality states the technician's preference; zero caps mean "no cap".
type Quality struct {
	Mode       string `json:"mode"` // auto, speed (lower latency), quality (sharper)
	MaxKbps    int    `json:"max_kbps,omitempty"`
	MaxFPS     int    `json:"max_fps,omitempty"`
	Codec      string `json:"codec,omitempty"` // informational: the negotiated codec
	ShowCursor *bool  `json:"show_cursor,omitempty"`
}

// Keyframe asks for a keyframe now (the video decoder lost its reference).
type Keyframe struct{}

// ViewOnly switches the technician's own input off (On) or back on.
type ViewOnly struct {
	On bool `json:"on"`
}

// Permissions tells the technician what the end user allows now. Sent when
// the session starts and whenever the end user changes it.
type Permissions struct {
	Permissions []Permission `json:"permissions"`
	Reason      string       `json:"reason,omitempty"`
}

// Stats are the agent's sender statistics.
type Stats struct {
	FPS      float64 `json:"fps"`
	Kbps     float64 `json:"kbps"`
	EncodeMS float64 `json:"encode_ms"`
	Width    int     `json:"width"`
	Height   int     `json:"height"`
	Codec    string  `json:"codec,omitempty"`
}

// Clipboard carries clipboard text to the other side.
type Clipboard struct {
	Text string `json:"text"`
}

// Chat is one chat line. From is "technician" or "user"; the receiver sets
// its own display name, the wire does not carry one.
type Chat struct {
	From string `json:"from"`
	Text string `json:"text"`
}

func (Pointer) DCType() DCType       { return DCPointer }
func (Button) DCType() DCType        { return DCButton }
func (Wheel) DCType() DCType         { return DCWheel }
func (Key) DCType() DCType           { return DCKey }
func (Text) DCType() DCType          { return DCText }
func (Combo) DCType() DCType         { return DCCombo }
func (Monitors) DCType() DCType      { return DCMonitors }
func (MonitorSelect) DCType() DCType { return DCMonitor }
func (Quality) DCType() DCType       { return DCQuality }
func (Keyframe) DCType() DCType      { return DCKeyframe }
func (ViewOnly) DCType() DCType      { return DCViewOnly }
func (Permissions) DCType() DCType   { return DCPermissions }
func (Stats) DCType() DCType         { return DCStats }
func (Clipboard) DCType() DCType     { return DCClipboard }
func (Chat) DCType() DCType          { return DCChat }

func checkUnit(field string, v float64) error {
	if math.IsNaN(v) || v < 0 || v > 1 {
		return Errorf(CodeBadRequest, "%s must be between 0 and 1", field)
	}
	return nil
}

func (m Pointer) Validate() error {
	if err := checkUnit("x", m.X); err != nil {
		return err
	}
	return checkUnit("y", m.Y)
}

func (m Button) Validate() error {
	switch m.Button {
	case "left", "middle", "right", "back", "forward":
	default:
		return Errorf(CodeBadRequest, "button must be left, middle, right, back or forward")
	}
	if err := checkUnit("x", m.X); err != nil {
		return err
	}
	return checkUnit("y", m.Y)
}

func (m Wheel) Validate() error {
	for _, d := range []float64{m.DX, m.DY} {
		if math.IsNaN(d) || math.Abs(d) > MaxWheelDelta {
			return Errorf(CodeBadRequest, "wheel deltas must be within ±%d", MaxWheelDelta)
		}
	}
	return nil
}

func checkKeyCode(field, code string) error {
	if code == "" || len(code) > MaxKeyCode {
		return Errorf(CodeBadRequest, "%s must be a KeyboardEvent.code of 1..%d characters", field, MaxKeyCode)
	}
	for i := 0; i < len(code); i++ {
		c := code[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return Errorf(CodeBadRequest, "%s must be letters and digits (KeyboardEvent.code)", field)
		}
	}
	return nil
}

func (m Key) Validate() error  { return checkKeyCode("code", m.Code) }
func (m Text) Validate() error { return checkText("text", m.Text, MaxTypedText, true) }

func (m Combo) Validate() error {
	if len(m.Keys) == 0 || len(m.Keys) > MaxComboKeys {
		return Errorf(CodeBadRequest, "keys must list 1..%d key codes", MaxComboKeys)
	}
	for _, k := range m.Keys {
		if err := checkKeyCode("keys", k); err != nil {
			return err
		}
	}
	return nil
}

func (m Monitors) Validate() error {
	if err := checkList("monitors", len(m.Monitors), MaxMonitors); err != nil {
		return err
	}
	for _, mon := range m.Monitors {
		if mon.Width <= 0 || mon.Height <= 0 || mon.Width > 1<<15 || mon.Height > 1<<15 {
			return Errorf(CodeBadRequest, "monitor size out of range")
		}
		if err := checkText("monitors.name", mon.Name, MaxNameLen, false); err != nil {
			return err
		}
	}
	if m.Shown < -1 || m.Shown >= MaxMonitors {
		return Errorf(CodeBadRequest, "shown out of range")
	}
	return nil
}

func (m MonitorSelect) Validate() error {
	if m.Index < -1 || m.Index >= MaxMonitors {
		return Errorf(CodeBadRequest, "index must be -1..%d", MaxMonitors-1)
	}
	return nil
}

func (m Quality) Validate() error {
	switch m.Mode {
	case "auto", "speed", "quality":
	default:
		return Errorf(CodeBadRequest, "mode must be auto, speed or quality")
	}
	if m.MaxKbps < 0 || m.MaxKbps > 100_000 || m.MaxFPS < 0 || m.MaxFPS > 120 {
		return Errorf(CodeBadRequest, "caps out of range")
	}
	return checkToken("codec", m.Codec, MaxTypeLen, false)
}

func (Keyframe) Validate() error { return nil }
func (ViewOnly) Validate() error { return nil }

func (m Permissions) Validate() error {
	if err := checkPermissions("permissions", m.Permissions); err != nil {
		return err
	}
	return checkText("reason", m.Reason, MaxReasonLen, false)
}

func (m Stats) Validate() error {
	for _, v := range []float64{m.FPS, m.Kbps, m.EncodeMS} {
		if math.IsNaN(v) || v < 0 || v > 1e7 {
			return Errorf(CodeBadRequest, "stats out of range")
		}
	}
	return checkToken("codec", m.Codec, MaxTypeLen, false)
}

func (m Clipboard) Validate() error { return checkText("text", m.Text, MaxClipboard, true) }

func (m Chat) Validate() error {
	if m.From != "technician" && m.From != "user" {
		return Errorf(CodeBadRequest, "from must be technician or user")
	}
	if m.Text == "" {
		return Errorf(CodeBadRequest, "text is required")
	}
	return checkText("text", m.Text, MaxChat, true)
}

// dcChannels says which channel carries each type.
var dcChannels = map[DCType]string{
	DCPointer: ChannelInput, DCButton: ChannelInput, DCWheel: ChannelInput, DCKey: ChannelInput,
	DCText: ChannelInput, DCCombo: ChannelInput,
	DCMonitors: ChannelControl, DCMonitor: ChannelControl, DCQuality: ChannelControl,
	DCKeyframe: ChannelControl, DCViewOnly: ChannelControl, DCPermissions: ChannelControl, DCStats: ChannelControl,
	DCClipboard: ChannelClipboard,
	DCChat:      ChannelChat,
}

var dcNew = map[DCType]func() DCMessage{
	DCPointer: func() DCMessage { return new(Pointer) }, DCButton: func() DCMessage { return new(Button) },
	DCWheel: func() DCMessage { return new(Wheel) }, DCKey: func() DCMessage { return new(Key) },
	DCText: func() DCMessage { return new(Text) }, DCCombo: func() DCMessage { return new(Combo) },
	DCMonitors: func() DCMessage { return new(Monitors) }, DCMonitor: func() DCMessage { return new(MonitorSelect) },
	DCQuality: func() DCMessage { return new(Quality) }, DCKeyframe: func() DCMessage { return new(Keyframe) },
	DCViewOnly: func() DCMessage { return new(ViewOnly) }, DCPermissions: func() DCMessage { return new(Permissions) },
	DCStats: func() DCMessage { return new(Stats) }, DCClipboard: func() DCMessage { return new(Clipboard) },
	DCChat: func() DCMessage { return new(Chat) },
}

// EncodeDC encodes m as {"t":"<type>", ...fields}.
func EncodeDC(m DCMessage) ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("proto: encode %s: %w", m.DCType(), err)
	}
	fields, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("proto: encode %s: %w", m.DCType(), err)
	}
	head := `{"t":"` + string(m.DCType()) + `"`
	if string(fields) == "{}" {
		return []byte(head + "}"), nil
	}
	return append([]byte(head+","), fields[1:]...), nil
}

// DecodeDC decodes and validates one message received on channel. A message
// of a type that does not belong on that channel is refused.
func DecodeDC(channel string, data []byte) (DCMessage, error) {
	if len(data) > MaxDCMessage {
		return nil, Errorf(CodeTooLarge, "message of %d bytes exceeds %d", len(data), MaxDCMessage)
	}
	var head struct {
		T DCType `json:"t"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, Errorf(CodeBadRequest, "malformed message: %s", jsonReason(err))
	}
	newMsg, ok := dcNew[head.T]
	if !ok {
		return nil, Errorf(CodeUnknownType, "unknown message type %q", truncate(string(head.T), MaxTypeLen))
	}
	if dcChannels[head.T] != channel {
		return nil, Errorf(CodeForbidden, "%s messages do not belong on the %s channel", head.T, truncate(channel, MaxTypeLen))
	}
	m := newMsg()
	if err := json.Unmarshal(data, m); err != nil {
		return nil, Errorf(CodeBadRequest, "malformed %s message: %s", head.T, jsonReason(err))
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return deref(m), nil
}

// deref returns the message as a value, so that type switches match on
// value types (proto.Pointer, not *proto.Pointer).
func deref(m DCMessage) DCMessage {
	switch v := m.(type) {
	case *Pointer:
		return *v
	case *Button:
		return *v
	case *Wheel:
		return *v
	case *Key:
		return *v
	case *Text:
		return *v
	case *Combo:
		return *v
	case *Monitors:
		return *v
	case *MonitorSelect:
		return *v
	case *Quality:
		return *v
	case *Keyframe:
		return *v
	case *ViewOnly:
		return *v
	case *Permissions:
		return *v
	case *Stats:
		return *v
	case *Clipboard:
		return *v
	case *Chat:
		return *v
	}
	return m
}

// ChannelOf returns the channel that carries messages of type t.
func ChannelOf(t DCType) string { return dcChannels[t] }

package proto

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

func dcSamples() []DCMessage {
	show := true
	return []DCMessage{
		Pointer{X: 0.5, Y: 1}, Button{Button: "left", Down: true, X: 0, Y: 0.25}, Wheel{DY: -120},
		Key{Code: "KeyA", Down: true, Mods: Modifiers{Ctrl: true}}, Text{Text: "héllo\n"},
		Combo{Keys: []string{"ControlLeft", "AltLeft", "Delete"}},
		Monitors{Monitors: []Monitor{{Index: 0, Name: "HDMI-1", Width: 1920, Height: 1080, Primary: true}}, Shown: 0},
		MonitorSelect{Index: -1}, Quality{Mode: "speed", MaxKbps: 2500, ShowCursor: &show}, Keyframe{},
		ViewOnly{On: true}, Permissions{Permissions: []Permission{PermView}, Reason: "control revoked by the user"},
		Stats{FPS: 30, Kbps: 800, EncodeMS: 4.5, Width: 1920, Height: 1080, Codec: "VP8"},
		Clipboard{Text: "copied"}, Chat{From: "user", Text: "hi"},
	}
}

func TestDCRoundTrip(t *testing.T) {
	seen := map[DCType]bool{}
	for _, m := range dcSamples() {
		data, err := EncodeDC(m)
		if err != nil {
			t.Fatalf("encode %s: %v", m.DCType(), err)
		}
		if !strings.HasPrefix(string(data), `{"t":"`+string(m.DCType())+`"`) {
			t.Fatalf("encoding %s", data)
		}
		got, err := DecodeDC(ChannelOf(m.DCType()), data)
		if err != nil {
			t.Fatalf("decode %s: %v", data, err)
		}
		if !reflect.DeepEqual(got, m) {
			t.Fatalf("round trip: %#v, want %#v", got, m)
		}
		seen[m.DCType()] = true
	}
	for typ := range dcNew {
		if !seen[typ] {
			t.Errorf("no sample for %s", typ)
		}
	}
}

func TestDCRejects(t *testing.T) {
	tests := []struct {
		name, channel, in string
		code              Code
	}{
		{"not json", ChannelInput, `{`, CodeBadRequest},
		{"unknown", ChannelInput, `{"t":"exec","cmd":"rm"}`, CodeUnknownType},
		{"wrong channel", ChannelChat, `{"t":"key","code":"KeyA","down":true}`, CodeForbidden},
		{"control on input", ChannelInput, `{"t":"permissions","permissions":["control"]}`, CodeForbidden},
		{"pointer outside", ChannelInput, `{"t":"pointer","x":1.5,"y":0}`, CodeBadRequest},
		{"negative pointer", ChannelInput, `{"t":"pointer","x":-0.1,"y":0}`, CodeBadRequest},
		{"bad button", ChannelInput, `{"t":"button","button":"fourth","x":0,"y":0}`, CodeBadRequest},
		{"huge wheel", ChannelInput, `{"t":"wheel","dy":1e9}`, CodeBadRequest},
		{"key with symbols", ChannelInput, `{"t":"key","code":"Key;A","down":true}`, CodeBadRequest},
		{"empty combo", ChannelInput, `{"t":"combo","keys":[]}`, CodeBadRequest},
		{"long text", ChannelInput, `{"t":"text","text":"` + strings.Repeat("a", MaxTypedText+1) + `"}`, CodeTooLarge},
		{"big clipboard", ChannelClipboard, `{"t":"clipboard","text":"` + strings.Repeat("a", MaxClipboard+1) + `"}`, CodeTooLarge},
		{"oversized", ChannelClipboard, `{"t":"clipboard","text":"` + strings.Repeat("a", MaxDCMessage) + `"}`, CodeTooLarge},
		{"chat from nobody", ChannelChat, `{"t":"chat","from":"relay","text":"x"}`, CodeBadRequest},
		{"empty chat", ChannelChat, `{"t":"chat","from":"user","text":""}`, CodeBadRequest},
		{"monitor index", ChannelControl, `{"t":"monitor","index":99}`, CodeBadRequest},
		{"quality mode", ChannelControl, `{"t":"quality","mode":"max"}`, CodeBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeDC(tt.channel, []byte(tt.in))
			var pe *Error
			if !errors.As(err, &pe) || pe.Code != tt.code {
				t.Fatalf("err = %v, want %s", err, tt.code)
			}
		})
	}
	if _, err := EncodeDC(Pointer{X: math.NaN()}); err == nil {
		t.Fatal("encoded a NaN pointer")
	}
}

// FuzzDecodeDC checks that data-channel decoding never panics, fails only
// with typed errors, and that what it accepts re-encodes to an equal message.
func FuzzDecodeDC(f *testing.F) {
	for _, m := range dcSamples() {
		data, _ := EncodeDC(m)
		f.Add(ChannelOf(m.DCType()), data)
	}
	f.Fuzz(func(t *testing.T, channel string, data []byte) {
		m, err := DecodeDC(channel, data)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		again, err := EncodeDC(m)
		if err != nil {
			t.Fatalf("accepted message does not re-encode: %v", err)
		}
		m2, err := DecodeDC(channel, again)
		if err != nil || !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip: %#v → %#v (%v)", m, m2, err)
		}
	})
}

package encode

import (
	"image"
	"testing"
	"time"
)

// TestVP8SpeedFollowsChangedArea checks that, with Config.Speed zero, VP8
// encodes frames that change much of the picture at vp8SpeedLarge (whose
// motion search follows scrolled text) and small changes at vp8SpeedSmall,
// and that a fixed Config.Speed stays fixed.
func TestVP8SpeedFollowsChangedArea(t *testing.T) {
	const w, h = 640, 480 // 40x30 macroblocks
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	tests := []struct {
		name    string
		speed   int
		changed []image.Rectangle
		want    int
	}{
		{"whole picture", 0, nil, vp8SpeedLarge},
		{"a sixteenth", 0, []image.Rectangle{image.Rect(0, 0, 160, 120)}, vp8SpeedLarge},
		{"a word typed", 0, []image.Rectangle{image.Rect(100, 100, 180, 116)}, vp8SpeedSmall},
		{"heartbeat", 0, []image.Rectangle{}, vp8SpeedSmall},
		{"fixed speed, small change", -6, []image.Rectangle{image.Rect(100, 100, 180, 116)}, -6},
		{"fixed speed, whole picture", -6, nil, -6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, err := New(VP8, Config{Width: w, Height: h, Speed: tt.speed})
			if err != nil {
				t.Fatal(err)
			}
			defer enc.Close()
			// The first frame is a keyframe of everything; the second
			// is the one under test.
			for i, opts := range []FrameOptions{{}, {Changed: tt.changed}} {
				if _, err := enc.EncodeFrame(img, time.Duration(i+1)*time.Second/30, opts); err != nil {
					t.Fatal(err)
				}
			}
			if got := enc.(*vpx).speed; got != tt.want {
				t.Errorf("speed %d, want %d", got, tt.want)
			}
		})
	}
}

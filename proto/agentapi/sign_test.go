package agentapi

import (
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"
	"time"
)

func TestSignVerify(t *testing.T) {
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	other, _, _ := ed25519.GenerateKey(rand.Reader)
	body := []byte(`{"events":[]}`)
	h, err := Sign(key, 7, "POST", PathEvents, body, time.Unix(1763884800, 0))
	if err != nil {
		t.Fatal(err)
	}
	a, err := ParseAuth(h)
	if err != nil {
		t.Fatalf("ParseAuth(%q): %v", h, err)
	}
	if a.DeviceID != 7 || a.Timestamp != 1763884800 {
		t.Errorf("parsed %+v", a)
	}
	for _, tc := range []struct {
		name              string
		pub               ed25519.PublicKey
		method, uri, body string
		want              bool
	}{
		{"as signed", pub, "POST", PathEvents, string(body), true},
		{"another key", other, "POST", PathEvents, string(body), false},
		{"another method", pub, "PUT", PathEvents, string(body), false},
		{"another path", pub, "POST", PathReports, string(body), false},
		{"another query", pub, "POST", PathEvents + "?x=1", string(body), false},
		{"another body", pub, "POST", PathEvents, `{"events":[1]}`, false},
		{"short key", pub[:10], "POST", PathEvents, string(body), false},
	} {
		if got := a.Verify(tc.pub, tc.method, tc.uri, []byte(tc.body)); got != tc.want {
			t.Errorf("%s: Verify = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestParseAuthRejects(t *testing.T) {
	good := "Reach-Ed25519 device=7,ts=1,nonce=AAAAAAAAAAAAAAAAAAAAAA,sig=" + strings.Repeat("A", 86)
	if _, err := ParseAuth(good); err != nil {
		t.Fatalf("good header: %v", err)
	}
	for _, h := range []string{
		"", "Bearer x", "Reach-Ed25519", "Reach-Ed25519 device=7",
		strings.Replace(good, "device=7", "device=0", 1),
		strings.Replace(good, "device=7", "device=-1", 1),
		strings.Replace(good, "ts=1", "ts=x", 1),
		strings.Replace(good, "nonce=AAAAAAAAAAAAAAAAAAAAAA", "nonce=AAAA", 1),
		strings.Replace(good, "sig=", "sig=AA", 1),
		good + ",extra=1",
		good + strings.Repeat(" ", 600),
	} {
		if _, err := ParseAuth(h); err == nil {
			t.Errorf("ParseAuth(%q) accepted", h)
		}
	}
}

func FuzzParseAuth(f *testing.F) {
	f.Add("Reach-Ed25519 device=7,ts=1,nonce=AAAAAAAAAAAAAAAAAAAAAA,sig=" + strings.Repeat("A", 86))
	f.Add("Reach-Ed25519 device=,ts=,nonce=,sig=")
	f.Fuzz(func(t *testing.T, h string) {
		a, err := ParseAuth(h)
		if err == nil && (a.DeviceID <= 0 || len(a.Signature) != ed25519.SignatureSize) {
			t.Errorf("accepted %q as %+v", h, a)
		}
	})
}

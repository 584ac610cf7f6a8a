package proto

import (
	"crypto/ed25519"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const offerSDP = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\na=fingerprint:SHA-256 ab:cd:ef\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n"

func TestFingerprint(t *testing.T) {
	fp, err := Fingerprint(offerSDP)
	if err != nil || fp != "sha-256 AB:CD:EF" {
		t.Fatalf("Fingerprint = %q, %v", fp, err)
	}
	if _, err := Fingerprint("v=0\r\nm=video 9\r\n"); CodeOf(err) != CodeForbidden {
		t.Fatalf("no fingerprint: %v", err)
	}
	if _, err := Fingerprint("a=fingerprint:sha-256 " + strings.Repeat("AB:", 100)); err == nil {
		t.Fatal("accepted an oversized fingerprint")
	}
}

func TestDTLSSignature(t *testing.T) {
	dev := mustKey(t)
	pub := dev.Public().(ed25519.PublicKey)
	answer := strings.Replace(offerSDP, "ab:cd:ef", "11:22:33", 1)
	sig := SignDTLS(dev, "sid-1", "sha-256 11:22:33")
	if err := VerifyDTLS(pub, "sid-1", answer, sig); err != nil {
		t.Fatalf("valid binding refused: %v", err)
	}
	// A relay that swaps the fingerprint, replays into another session, or
	// signs with its own key is caught.
	for name, tc := range map[string]struct{ sid, sdp, sig string }{
		"swapped fingerprint": {"sid-1", strings.Replace(answer, "11:22:33", "66:66:66", 1), sig},
		"other session":       {"sid-2", answer, sig},
		"other key":           {"sid-1", answer, SignDTLS(mustKey(t), "sid-1", "sha-256 11:22:33")},
		"garbage":             {"sid-1", answer, "!!"},
	} {
		if err := VerifyDTLS(pub, tc.sid, tc.sdp, tc.sig); CodeOf(err) != CodeForbidden {
			t.Errorf("%s: %v, want forbidden", name, err)
		}
	}
}

func TestGrant(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	console := mustKey(t)
	v := NewVerifier(AudienceAgent, func() time.Time { return now }, console.Public().(ed25519.PublicKey))
	grant := func(fp, dev string, aud string) string {
		c := Claims{RegisteredClaims: jwt.RegisteredClaims{Subject: "u1", Audience: jwt.ClaimStrings{aud}, ExpiresAt: jwt.NewNumericDate(now.Add(time.Minute))},
			Kind: KindGrant, Fingerprint: fp, Device: dev}
		s, err := SignToken(console, c, now)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if c, err := VerifyGrant(v, "dev-1", offerSDP, grant("sha-256 AB:CD:EF", "", AudienceAgent)); err != nil || c.Subject != "u1" {
		t.Fatalf("valid grant refused: %v", err)
	}
	for name, g := range map[string]string{
		"swapped fingerprint": grant("sha-256 00:00:00", "", AudienceAgent),
		"other device":        grant("sha-256 AB:CD:EF", "dev-2", AudienceAgent),
		"relay audience":      grant("sha-256 AB:CD:EF", "", AudienceRelay),
		"no grant":            "",
	} {
		if _, err := VerifyGrant(v, "dev-1", offerSDP, g); CodeOf(err) != CodeForbidden {
			t.Errorf("%s: %v, want forbidden", name, err)
		}
	}
}

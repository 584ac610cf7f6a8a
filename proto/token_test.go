package proto

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func mustKey(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func techClaims(now time.Time, ttl time.Duration) Claims {
	return Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   "u1",
			Audience:  jwt.ClaimStrings{AudienceRelay},
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
		Kind:        KindTechnician,
		Name:        "Ada Lovelace",
		Org:         "ACME IT",
		Permissions: []Permission{PermView, PermControl},
		Ticket:      &TicketRef{ID: "42", Title: "VPN"},
	}
}

func TestTokenVerify(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	key, other := mustKey(t), mustKey(t)
	pub := key.Public().(ed25519.PublicKey)
	v := NewVerifier(AudienceRelay, func() time.Time { return now }, pub)

	good, err := SignToken(key, techClaims(now, 5*time.Minute), now)
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.Verify(good, KindTechnician)
	if err != nil {
		t.Fatalf("valid token refused: %v", err)
	}
	if c.Subject != "u1" || c.Name != "Ada Lovelace" || c.Ticket.ID != "42" || !HasPermission(c.Permissions, PermControl) {
		t.Fatalf("claims = %+v", c)
	}

	sign := func(k ed25519.PrivateKey, mod func(*Claims)) string {
		c := techClaims(now, 5*time.Minute)
		mod(&c)
		s, err := SignToken(k, c, now)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	tampered := func() string {
		parts := strings.Split(good, ".")
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		payload = []byte(strings.Replace(string(payload), `"u1"`, `"u2"`, 1))
		parts[1] = base64.RawURLEncoding.EncodeToString(payload)
		return strings.Join(parts, ".")
	}()
	noneAlg := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodNone, techClaims(now, time.Minute))
		s, _ := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
		return s
	}()

	tests := []struct {
		name string
		tok  string
		kind Kind
		msg  string
	}{
		{"expired", sign(key, func(c *Claims) { c.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Minute)) }), KindTechnician, "expired"},
		{"wrong audience", sign(key, func(c *Claims) { c.Audience = jwt.ClaimStrings{"reach-console"} }), KindTechnician, "wrong audience"},
		{"wrong issuer", sign(key, func(c *Claims) { c.Issuer = "evil" }), KindTechnician, "wrong issuer"},
		{"unknown key", sign(other, func(*Claims) {}), KindTechnician, "unknown key"},
		{"tampered", tampered, KindTechnician, "bad signature"},
		{"alg none", noneAlg, KindTechnician, "rejected"},
		{"wrong kind", good, KindDevice, "this endpoint takes a device"},
		{"lifetime too long", sign(key, func(c *Claims) { c.ExpiresAt = jwt.NewNumericDate(now.Add(48 * time.Hour)) }), KindTechnician, "lifetime"},
		{"not yet valid", sign(key, func(c *Claims) { c.NotBefore = jwt.NewNumericDate(now.Add(time.Hour)) }), KindTechnician, "not valid yet"},
		{"garbage", "not-a-token", KindTechnician, "malformed"},
		{"oversized", strings.Repeat("a", MaxTokenLen+1), KindTechnician, "longer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.Verify(tt.tok, tt.kind)
			if CodeOf(err) != CodeUnauthorized {
				t.Fatalf("err = %v, want unauthorized", err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %q, want it to mention %q", err, tt.msg)
			}
		})
	}
}

func TestSignTokenValidatesClaims(t *testing.T) {
	now := time.Now()
	c := techClaims(now, time.Minute)
	c.Name = "bad\x00name"
	if _, err := SignToken(mustKey(t), c, now); err == nil {
		t.Fatal("signed a token with a control character in its name")
	}
	c = techClaims(now, time.Minute)
	c.ExpiresAt = nil
	if _, err := SignToken(mustKey(t), c, now); err == nil {
		t.Fatal("signed a token without expiry")
	}
}

func TestKeyPEMRoundTrip(t *testing.T) {
	k1, k2 := mustKey(t), mustKey(t)
	var bundle []byte
	for _, k := range []ed25519.PrivateKey{k1, k2} {
		p, err := MarshalPublicKey(k.Public().(ed25519.PublicKey))
		if err != nil {
			t.Fatal(err)
		}
		bundle = append(bundle, p...)
	}
	keys, err := ParsePublicKeys(bundle)
	if err != nil || len(keys) != 2 || !keys[1].Equal(k2.Public()) {
		t.Fatalf("ParsePublicKeys = %d keys, %v", len(keys), err)
	}
	priv, err := MarshalPrivateKey(k1)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParsePrivateKey(priv)
	if err != nil || !back.Equal(k1) {
		t.Fatalf("ParsePrivateKey: %v", err)
	}
	if _, err := ParsePublicKeys([]byte("nothing here")); err == nil {
		t.Fatal("ParsePublicKeys accepted no key")
	}
}

package proto

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Kind says whom a token was issued to.
type Kind string

// Token kinds.
const (
	KindTechnician Kind = "technician" // a person working a ticket
	KindDevice     Kind = "device"     // an enrolled (or quick-support) agent
	KindService    Kind = "service"    // the console itself, e.g. querying presence
	KindGrant      Kind = "grant"      // a session grant: binds a technician's DTLS fingerprint, for the agent
)

// Token issuer and audiences.
const (
	Issuer        = "reach-console"
	AudienceRelay = "reach-relay"
	AudienceAgent = "reach-agent" // session grants, checked by the agent
)

// MaxTokenLifetime bounds exp - iat on any token the relay accepts.
const MaxTokenLifetime = 24 * time.Hour

// Claims are what the console vouches for in a token (a JWS signed with
// Ed25519, "EdDSA"). The subject is the user id (technician), device id
// (device) or service name (service).
type Claims struct {
	jwt.RegisteredClaims
	Kind        Kind         `json:"knd"`
	Name        string       `json:"name,omitempty"`  // display name: person or device
	Org         string       `json:"org,omitempty"`   // the help desk's organisation
	Permissions []Permission `json:"perms,omitempty"` // technician: what the console allows
	Ticket      *TicketRef   `json:"tkt,omitempty"`   // technician: the ticket a code is bound to
	Device      string       `json:"dev,omitempty"`   // technician, grant: the one device an unattended connect may target
	Fingerprint string       `json:"fp,omitempty"`    // grant: the technician's DTLS certificate fingerprint ("sha-256 AB:CD:…")
}

// Validate checks the claims' own fields (signature and times are checked by VerifyToken).
func (c *Claims) Validate() error {
	switch c.Kind {
	case KindTechnician, KindDevice, KindService, KindGrant:
	default:
		return Errorf(CodeUnauthorized, "token kind %q is unknown", truncate(string(c.Kind), 32))
	}
	if err := checkToken("sub", c.Subject, MaxIDLen, true); err != nil {
		return &Error{Code: CodeUnauthorized, Msg: "token " + err.(*Error).Msg}
	}
	for _, check := range []error{
		checkText("name", c.Name, MaxNameLen, false),
		checkText("org", c.Org, MaxNameLen, false),
		checkPermissions("perms", c.Permissions),
		c.Ticket.validate("tkt"),
		checkToken("dev", c.Device, MaxIDLen, false),
		checkText("fp", c.Fingerprint, MaxFingerprint, false),
	} {
		if check != nil {
			return &Error{Code: CodeUnauthorized, Msg: "token " + check.(*Error).Msg}
		}
	}
	return nil
}

// KeyID names a public key in a token's "kid" header: the first 12 bytes of
// its SHA-256, base64url.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

// SignToken signs c with key. Issuer, IssuedAt and an expiry must be set by the caller
// or are filled in: Issuer defaults to [Issuer], IssuedAt to now.
func SignToken(key ed25519.PrivateKey, c Claims, now time.Time) (string, error) {
	if c.Issuer == "" {
		c.Issuer = Issuer
	}
	if c.IssuedAt == nil {
		c.IssuedAt = jwt.NewNumericDate(now)
	}
	if c.ExpiresAt == nil {
		return "", errors.New("proto: sign token: expiry is required")
	}
	if err := c.Validate(); err != nil {
		return "", fmt.Errorf("proto: sign token: %w", err)
	}
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, &c)
	t.Header["kid"] = KeyID(key.Public().(ed25519.PublicKey))
	s, err := t.SignedString(key)
	if err != nil {
		return "", fmt.Errorf("proto: sign token: %w", err)
	}
	return s, nil
}

// Verifier checks tokens against the console's public keys (several during a
// key rotation) for one audience.
type Verifier struct {
	keys     map[string]ed25519.PublicKey
	audience string
	now      func() time.Time
}

// NewVerifier returns a Verifier for audience. now may be nil for time.Now.
func NewVerifier(audience string, now func() time.Time, keys ...ed25519.PublicKey) *Verifier {
	if now == nil {
		now = time.Now
	}
	v := &Verifier{keys: make(map[string]ed25519.PublicKey, len(keys)), audience: audience, now: now}
	for _, k := range keys {
		v.keys[KeyID(k)] = k
	}
	return v
}

// Verify parses tok, checks signature, issuer, audience, expiry, lifetime and
// the claims' fields, and that its kind is want. Every failure is an *Error
// with CodeUnauthorized whose message says what was wrong, never the token.
func (v *Verifier) Verify(tok string, want Kind) (*Claims, error) {
	if len(tok) > MaxTokenLen {
		return nil, Errorf(CodeUnauthorized, "token is longer than %d bytes", MaxTokenLen)
	}
	var c Claims
	_, err := jwt.ParseWithClaims(tok, &c, v.key,
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithAudience(v.audience),
		jwt.WithIssuer(Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(v.now),
		jwt.WithLeeway(30*time.Second),
	)
	if err != nil {
		return nil, Errorf(CodeUnauthorized, "token rejected: %s", tokenReason(err))
	}
	if c.IssuedAt == nil || c.ExpiresAt.Sub(c.IssuedAt.Time) > MaxTokenLifetime {
		return nil, Errorf(CodeUnauthorized, "token lifetime exceeds %s", MaxTokenLifetime)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if c.Kind != want {
		return nil, Errorf(CodeUnauthorized, "token is for a %s, this endpoint takes a %s", c.Kind, want)
	}
	return &c, nil
}

func (v *Verifier) key(t *jwt.Token) (any, error) {
	kid, _ := t.Header["kid"].(string)
	k, ok := v.keys[kid]
	if !ok {
		return nil, errUnknownKey
	}
	return k, nil
}

var errUnknownKey = errors.New("signed by an unknown key")

// tokenReason maps jwt's errors to a short, fixed vocabulary.
func tokenReason(err error) string {
	switch {
	case errors.Is(err, errUnknownKey):
		return "signed by an unknown key"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "not valid yet"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "wrong audience"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "wrong issuer"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "a required claim is missing"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return "bad signature"
	default:
		return "malformed"
	}
}

// MarshalPublicKey encodes pub as a PEM "PUBLIC KEY" block (PKIX).
func MarshalPublicKey(pub ed25519.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("proto: marshal public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// ParsePublicKeys decodes every PEM "PUBLIC KEY" block in data; each must be Ed25519.
func ParsePublicKeys(data []byte) ([]ed25519.PublicKey, error) {
	var keys []ed25519.PublicKey
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "PUBLIC KEY" {
			continue
		}
		k, err := x509.ParsePKIXPublicKey(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("proto: parse public key: %w", err)
		}
		ek, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("proto: parse public key: %T is not Ed25519", k)
		}
		keys = append(keys, ek)
	}
	if len(keys) == 0 {
		return nil, errors.New("proto: no PEM PUBLIC KEY block found")
	}
	return keys, nil
}

// MarshalPrivateKey encodes key as a PEM "PRIVATE KEY" block (PKCS #8).
func MarshalPrivateKey(key ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("proto: marshal private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParsePrivateKey decodes a PEM "PRIVATE KEY" block holding an Ed25519 key.
func ParsePrivateKey(data []byte) (ed25519.PrivateKey, error) {
	b, _ := pem.Decode(data)
	if b == nil || b.Type != "PRIVATE KEY" {
		return nil, errors.New("proto: no PEM PRIVATE KEY block found")
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("proto: parse private key: %w", err)
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("proto: parse private key: %T is not Ed25519", k)
	}
	return ek, nil
}

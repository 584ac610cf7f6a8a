package agentapi

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Request signatures. An enrolled agent signs every request with its device
// key and sends
//
//	Authorization: Reach-Ed25519 device=7,ts=1763884800,nonce=<22 chars>,sig=<86 chars>
//
// where sig is base64url (no padding) of the Ed25519 signature over
// SigningString. The console checks the device's enrolled key, that ts is
// within MaxSkew of its clock and that the nonce was not used in the last
// 2·MaxSkew.
const (
	AuthScheme = "Reach-Ed25519"
	// MaxSkew bounds the difference between the agent's and the console's
	// clocks.
	MaxSkew = 5 * time.Minute
	// nonceBytes is the nonce's entropy.
	nonceBytes = 16
)

// ErrBadAuthorization is returned for an Authorization header that does not
// parse.
var ErrBadAuthorization = errors.New("agentapi: malformed Authorization header")

// Auth is a parsed Authorization header.
type Auth struct {
	DeviceID  int64
	Timestamp int64 // Unix seconds
	Nonce     string
	Signature []byte
}

// SigningString is what the device key signs: a label, the method, the
// request URI (path and raw query), the device id, the timestamp, the nonce
// and the hex SHA-256 of the body, one per line.
func SigningString(method, requestURI string, deviceID, ts int64, nonce string, body []byte) []byte {
	sum := sha256.Sum256(body)
	return []byte("reach-agent-request-v1\n" + method + "\n" + requestURI + "\n" + strconv.FormatInt(deviceID, 10) + "\n" +
		strconv.FormatInt(ts, 10) + "\n" + nonce + "\n" + hex.EncodeToString(sum[:]))
}

// Sign returns the Authorization header value for a request.
func Sign(key ed25519.PrivateKey, deviceID int64, method, requestURI string, body []byte, now time.Time) (string, error) {
	n := make([]byte, nonceBytes)
	if _, err := rand.Read(n); err != nil {
		return "", fmt.Errorf("agentapi: nonce: %w", err)
	}
	nonce := base64.RawURLEncoding.EncodeToString(n)
	ts := now.Unix()
	sig := ed25519.Sign(key, SigningString(method, requestURI, deviceID, ts, nonce, body))
	return fmt.Sprintf("%s device=%d,ts=%d,nonce=%s,sig=%s", AuthScheme, deviceID, ts, nonce,
		base64.RawURLEncoding.EncodeToString(sig)), nil
}

// ParseAuth parses an Authorization header value.
func ParseAuth(h string) (*Auth, error) {
	scheme, params, ok := strings.Cut(h, " ")
	if !ok || scheme != AuthScheme || len(h) > 512 {
		return nil, ErrBadAuthorization
	}
	a := &Auth{}
	seen := 0
	for _, kv := range strings.Split(params, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			return nil, ErrBadAuthorization
		}
		var err error
		switch k {
		case "device":
			a.DeviceID, err = strconv.ParseInt(v, 10, 64)
			if a.DeviceID <= 0 {
				err = ErrBadAuthorization
			}
			seen |= 1
		case "ts":
			a.Timestamp, err = strconv.ParseInt(v, 10, 64)
			seen |= 2
		case "nonce":
			var b []byte
			b, err = base64.RawURLEncoding.DecodeString(v)
			if len(b) != nonceBytes {
				err = ErrBadAuthorization
			}
			a.Nonce = v
			seen |= 4
		case "sig":
			a.Signature, err = base64.RawURLEncoding.DecodeString(v)
			if len(a.Signature) != ed25519.SignatureSize {
				err = ErrBadAuthorization
			}
			seen |= 8
		default:
			err = ErrBadAuthorization
		}
		if err != nil {
			return nil, ErrBadAuthorization
		}
	}
	if seen != 15 {
		return nil, ErrBadAuthorization
	}
	return a, nil
}

// Verify checks a's signature of the request with the device's key.
func (a *Auth) Verify(pub ed25519.PublicKey, method, requestURI string, body []byte) bool {
	return len(pub) == ed25519.PublicKeySize &&
		ed25519.Verify(pub, SigningString(method, requestURI, a.DeviceID, a.Timestamp, a.Nonce, body), a.Signature)
}

// EncodeKey encodes a public key as the API carries it: base64 of the raw
// 32 bytes.
func EncodeKey(pub ed25519.PublicKey) string { return base64.StdEncoding.EncodeToString(pub) }

// DecodeKey decodes a public key encoded by EncodeKey.
func DecodeKey(s string) (ed25519.PublicKey, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, errors.New("agentapi: public key must be base64 of 32 bytes")
	}
	return ed25519.PublicKey(b), nil
}

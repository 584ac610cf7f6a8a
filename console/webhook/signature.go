package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Headers of a delivery.
const (
	// SignatureHeader carries "t=<unix seconds>,v1=<hex HMAC-SHA256>": the
	// HMAC, keyed with the webhook's secret, of "<t>.<body>".
	SignatureHeader = "Reach-Signature"
	// DeliveryHeader carries the delivery's unique ID, the same on every
	// attempt: receivers deduplicate on it.
	DeliveryHeader = "Reach-Delivery"
	// EventHeader carries the event type.
	EventHeader = "Reach-Event"
	// AttemptHeader carries the attempt number, from 1.
	AttemptHeader = "Reach-Attempt"
)

// DefaultTolerance is the replay window Verify's callers should use: a
// signature older or newer than this is refused.
const DefaultTolerance = 5 * time.Minute

// Sign returns the SignatureHeader value for body sent at t.
func Sign(secret, body []byte, t time.Time) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Errors of Verify.
var (
	ErrBadSignature = errors.New("webhook: signature does not match")
	ErrStale        = errors.New("webhook: signature timestamp outside the tolerance")
	ErrMalformed    = errors.New("webhook: malformed signature header")
)

// Verify checks a SignatureHeader value against body and secret, and that
// its timestamp is within tolerance of now (replay protection). Receivers
// written in Go can call it; docs/webhooks.md shows the same check in other
// languages. Several v1 values are accepted (any may match), so that a
// sender may sign with an old and a new secret during a rotation.
func Verify(secret, body []byte, header string, now time.Time, tolerance time.Duration) error {
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return ErrMalformed
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			b, err := hex.DecodeString(v)
			if err != nil {
				return ErrMalformed
			}
			sigs = append(sigs, b)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return ErrMalformed
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return ErrStale
	}
	want := mac(secret, ts, body)
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			return nil
		}
	}
	return ErrBadSignature
}

package proto

import (
	"crypto/ed25519"
	"encoding/base64"
	"strings"
)

// DTLS fingerprint binding (docs/security.md): a relay forwards the SDP that
// carries each side's DTLS certificate fingerprint, so a malicious relay
// could swap them and sit in the middle. Each side therefore proves its
// fingerprint with something only the console can vouch for:
//
//   - the technician's offer carries, in Signature, a console-signed grant
//     (a token of kind "grant", audience "reach-agent") whose "fp" claim is
//     the fingerprint in the offer; the agent checks it with the console key
//     it got at enrollment;
//   - the agent's answer carries, in Signature, an Ed25519 signature of
//     DTLSBinding(sid, fingerprint) by its device key; the technician checks
//     it with the device's public key from the console.
//
// A mismatch ends the session with CodeForbidden on both sides.

// Fingerprint returns the first a=fingerprint attribute of sdp, normalized
// to "<hash> <HEX:HEX:…>" with a lower-case hash name and upper-case hex.
func Fingerprint(sdp string) (string, error) {
	for _, line := range strings.Split(sdp, "\n") {
		v, ok := strings.CutPrefix(strings.TrimSpace(line), "a=fingerprint:")
		if !ok {
			continue
		}
		hash, value, ok := strings.Cut(strings.TrimSpace(v), " ")
		if !ok || hash == "" || value == "" {
			break
		}
		fp := strings.ToLower(hash) + " " + strings.ToUpper(strings.TrimSpace(value))
		if len(fp) > MaxFingerprint {
			break
		}
		return fp, nil
	}
	return "", Errorf(CodeForbidden, "the SDP carries no valid DTLS fingerprint")
}

// DTLSBinding is the message an agent signs to bind its fingerprint to a session.
func DTLSBinding(sid, fingerprint string) []byte {
	return []byte("reach-dtls-v1\n" + sid + "\n" + fingerprint)
}

// SignDTLS signs an agent's fingerprint for session sid with its device key.
func SignDTLS(key ed25519.PrivateKey, sid, fingerprint string) string {
	return base64.RawStdEncoding.EncodeToString(ed25519.Sign(key, DTLSBinding(sid, fingerprint)))
}

// VerifyDTLS checks an agent's answer: its fingerprint must be signed for
// sid by the device key pub.
func VerifyDTLS(pub ed25519.PublicKey, sid, answerSDP, signature string) error {
	fp, err := Fingerprint(answerSDP)
	if err != nil {
		return err
	}
	sig, err := base64.RawStdEncoding.DecodeString(signature)
	if err != nil || !ed25519.Verify(pub, DTLSBinding(sid, fp), sig) {
		return Errorf(CodeForbidden, "the device's DTLS fingerprint is not signed by its key: the session may be intercepted")
	}
	return nil
}

// VerifyGrant checks a technician's offer on the agent: Signature must be a
// grant from the console for this device (when the grant names one) whose
// fingerprint is the offer's. v must be built for AudienceAgent.
func VerifyGrant(v *Verifier, deviceID, offerSDP, grant string) (*Claims, error) {
	c, err := v.Verify(grant, KindGrant)
	if err != nil {
		return nil, Errorf(CodeForbidden, "the technician's session grant is invalid: %s", err.(*Error).Msg)
	}
	fp, err := Fingerprint(offerSDP)
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(c.Fingerprint, fp) {
		return nil, Errorf(CodeForbidden, "the technician's DTLS fingerprint does not match the console's grant: the session may be intercepted")
	}
	if c.Device != "" && c.Device != deviceID {
		return nil, Errorf(CodeForbidden, "the session grant is for another device")
	}
	return c, nil
}

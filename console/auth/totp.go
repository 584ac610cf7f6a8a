package auth

import (
	"bytes"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TOTP parameters: RFC 6238 with the defaults every authenticator app
// supports. One step of clock skew is accepted either way.
const (
	totpPeriod = 30
	totpDigits = otp.DigitsSix
	totpSkew   = 1
	// EnrollTTL is how long an enrollment may wait for its confirming code.
	EnrollTTL = 10 * time.Minute
)

// ErrBadCode is returned for a TOTP code that is malformed or wrong.
var ErrBadCode = errors.New("auth: wrong two-factor code")

// TOTP issues and checks two-factor codes. Secrets are stored sealed, bound
// to their user.
type TOTP struct {
	issuer string
	sealer *Sealer
	now    func() time.Time
}

// NewTOTP returns a TOTP whose secrets name issuer in authenticator apps;
// now may be nil for time.Now.
func NewTOTP(issuer string, s *Sealer, now func() time.Time) *TOTP {
	if now == nil {
		now = time.Now
	}
	return &TOTP{issuer: issuer, sealer: s, now: now}
}

// Enrollment is a fresh TOTP secret waiting for its first code.
type Enrollment struct {
	Secret string // base32, for typing into an app
	URL    string // otpauth:// URL, what the QR code holds
	QRPNG  []byte // the QR code as a PNG image
	// State is the sealed secret, handed back with the confirming code;
	// nothing is stored until then.
	State string
}

type enrollState struct {
	User    int64  `json:"u"`
	Secret  string `json:"s"`
	Expires int64  `json:"e"`
}

var (
	adSecret = []byte("reach totp secret")
	adEnroll = []byte("reach totp enrollment")
)

// userAD binds sealed data to purpose and user.
func userAD(purpose []byte, userID int64) []byte {
	return binary.BigEndian.AppendUint64(append(purpose[:len(purpose):len(purpose)], 0), uint64(userID))
}

// Enroll creates a secret for userID, shown as account in apps.
func (t *TOTP) Enroll(userID int64, account string) (*Enrollment, error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: t.issuer, AccountName: account, Period: totpPeriod,
		Digits: totpDigits, Algorithm: otp.AlgorithmSHA1, SecretSize: 20})
	if err != nil {
		return nil, fmt.Errorf("auth: generate TOTP secret: %w", err)
	}
	st, err := json.Marshal(enrollState{User: userID, Secret: key.Secret(), Expires: t.now().Add(EnrollTTL).Unix()})
	if err != nil {
		return nil, err
	}
	sealed, err := t.sealer.Seal(st, userAD(adEnroll, userID))
	if err != nil {
		return nil, err
	}
	img, err := key.Image(256, 256)
	if err != nil {
		return nil, fmt.Errorf("auth: QR code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("auth: QR code: %w", err)
	}
	return &Enrollment{Secret: key.Secret(), URL: key.URL(), QRPNG: buf.Bytes(),
		State: base64.RawURLEncoding.EncodeToString(sealed)}, nil
}

// ErrEnrollment is returned for an enrollment state that is invalid,
// expired or belongs to another user.
var ErrEnrollment = errors.New("auth: two-factor enrollment expired or invalid; start again")

// Confirm checks code against the enrollment state of userID and returns
// the sealed secret to store as the user's TOTPSecret and the time step the
// code used.
func (t *TOTP) Confirm(userID int64, state, code string) (sealed []byte, step int64, err error) {
	raw, err := base64.RawURLEncoding.DecodeString(state)
	if err != nil || len(raw) > 512 {
		return nil, 0, ErrEnrollment
	}
	pt, err := t.sealer.Open(raw, userAD(adEnroll, userID))
	if err != nil {
		return nil, 0, ErrEnrollment
	}
	var st enrollState
	if err := json.Unmarshal(pt, &st); err != nil || st.User != userID || t.now().Unix() > st.Expires {
		return nil, 0, ErrEnrollment
	}
	if step, err = t.match(st.Secret, code); err != nil {
		return nil, 0, err
	}
	sealed, err = t.sealer.Seal([]byte(st.Secret), userAD(adSecret, userID))
	return sealed, step, err
}

// Check verifies code against the user's sealed secret and returns the time
// step it matched. The caller must record the step (console.AuthService
// UseTOTPStep) so that the code cannot be replayed.
func (t *TOTP) Check(userID int64, sealed []byte, code string) (int64, error) {
	secret, err := t.sealer.Open(sealed, userAD(adSecret, userID))
	if err != nil {
		return 0, fmt.Errorf("auth: open TOTP secret: %w", err)
	}
	return t.match(string(secret), code)
}

// match returns the step among now-skew…now+skew whose code is code.
func (t *TOTP) match(secret, code string) (int64, error) {
	code = strings.TrimSpace(code)
	if len(code) != int(totpDigits) {
		return 0, ErrBadCode
	}
	now := t.now().Unix() / totpPeriod
	opts := totp.ValidateOpts{Period: totpPeriod, Digits: totpDigits, Algorithm: otp.AlgorithmSHA1}
	var found int64
	for d := int64(-totpSkew); d <= totpSkew; d++ {
		step := now + d
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*totpPeriod, 0), opts)
		if err != nil {
			return 0, fmt.Errorf("auth: TOTP code: %w", err)
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && found == 0 {
			found = step
		}
	}
	if found == 0 {
		return 0, ErrBadCode
	}
	return found, nil
}

// Code returns the current code of a base32 secret; tests and tools use it.
func Code(secret string, at time.Time) (string, error) {
	return totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: totpPeriod, Digits: totpDigits,
		Algorithm: otp.AlgorithmSHA1})
}

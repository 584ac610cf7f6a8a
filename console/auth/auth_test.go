package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// cheap keeps tests fast; DefaultParams is checked by TestDefaultParams.
var cheap = Params{Memory: 64, Time: 1, Threads: 1}

func TestHashVerify(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(cheap, 2)
	enc, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("encoded hash %q is not PHC argon2id with the parameters", enc)
	}
	enc2, _ := h.Hash(ctx, "correct horse battery staple")
	if enc == enc2 {
		t.Error("two hashes of one password are equal: salt not random")
	}
	if err := h.Verify(ctx, enc, "correct horse battery staple"); err != nil {
		t.Errorf("Verify right password: %v", err)
	}
	for _, wrong := range []string{"", "correct horse battery stapl", "Correct horse battery staple", strings.Repeat("x", MaxPassLen+1)} {
		if err := h.Verify(ctx, enc, wrong); !errors.Is(err, ErrMismatch) {
			t.Errorf("Verify(%.20q) = %v, want ErrMismatch", wrong, err)
		}
	}
	if err := h.Verify(ctx, "", ""); !errors.Is(err, ErrMismatch) {
		t.Errorf("empty hash matched: %v", err)
	}
	if err := h.VerifyNone(ctx, "x"); !errors.Is(err, ErrMismatch) {
		t.Errorf("VerifyNone = %v", err)
	}
	// Another hasher with other parameters verifies it, and wants a rehash.
	other := NewHasher(Params{Memory: 128, Time: 2, Threads: 1}, 1)
	if err := other.Verify(ctx, enc, "correct horse battery staple"); err != nil {
		t.Errorf("Verify with other params: %v", err)
	}
	if !other.NeedsRehash(enc) || h.NeedsRehash(enc) {
		t.Error("NeedsRehash wrong")
	}
}

func TestVerifyBcrypt(t *testing.T) {
	ctx := context.Background()
	b, err := bcrypt.GenerateFromPassword([]byte("old system password"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	h := NewHasher(cheap, 1)
	if err := h.Verify(ctx, string(b), "old system password"); err != nil {
		t.Errorf("bcrypt verify: %v", err)
	}
	if err := h.Verify(ctx, string(b), "wrong"); !errors.Is(err, ErrMismatch) {
		t.Errorf("bcrypt wrong password: %v", err)
	}
	if !h.NeedsRehash(string(b)) {
		t.Error("bcrypt hash should be rehashed to argon2id")
	}
}

func TestVerifyRejectsTamperedHashes(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(cheap, 1)
	for _, enc := range []string{
		"$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5", // 4 GiB
		"$argon2id$v=19$m=64,t=99,p=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=18$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=64,t=1,p=1$!!$a2V5a2V5a2V5a2V5a2V5a2V5",
		"plaintext",
	} {
		if err := h.Verify(ctx, enc, "x"); err == nil || errors.Is(err, ErrMismatch) {
			t.Errorf("Verify(%q) = %v, want a format error", enc, err)
		}
	}
}

func TestDefaultParams(t *testing.T) {
	if testing.Short() {
		t.Skip("hashes with 64 MiB")
	}
	ctx := context.Background()
	h := NewHasher(Params{}, 1)
	start := time.Now()
	enc, err := h.Hash(ctx, "a password of some length")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("argon2id with default params took %v", time.Since(start))
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=65536,t=3,p=2$") {
		t.Errorf("default hash %q", enc)
	}
	if err := h.Verify(ctx, enc, "a password of some length"); err != nil {
		t.Error(err)
	}
}

func TestCheckNewPassword(t *testing.T) {
	for _, tc := range []struct {
		pw, email string
		ok        bool
	}{
		{"short", "", false},
		{"twelve chars", "", true},
		{"            ", "", false},
		{"jane@example.com", "jane@example.com", false},
		{"ünïcödé-pässwörd", "", true},
		{strings.Repeat("x", MaxPassLen+1), "", false},
		{"twelve\x00chars", "", false},
	} {
		if got := CheckNewPassword(tc.pw, tc.email) == ""; got != tc.ok {
			t.Errorf("CheckNewPassword(%.20q) ok = %v, want %v", tc.pw, got, tc.ok)
		}
	}
}

func TestSealer(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	key, err := LoadOrCreateKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v", fi.Mode(), err)
	}
	again, err := LoadOrCreateKey(dir)
	if err != nil || string(again) != string(key) {
		t.Fatal("key not reloaded")
	}
	s, err := NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := s.Seal([]byte("secret"), []byte("ad 1"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(sealed), "secret") {
		t.Fatal("sealed value holds the plaintext")
	}
	if pt, err := s.Open(sealed, []byte("ad 1")); err != nil || string(pt) != "secret" {
		t.Fatalf("Open = %q, %v", pt, err)
	}
	if _, err := s.Open(sealed, []byte("ad 2")); !errors.Is(err, ErrUnseal) {
		t.Errorf("Open with other AD = %v", err)
	}
	otherKey := make([]byte, 32)
	other, _ := NewSealer(otherKey)
	if _, err := other.Open(sealed, []byte("ad 1")); !errors.Is(err, ErrUnseal) {
		t.Errorf("Open with other key = %v", err)
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := s.Open(sealed, []byte("ad 1")); !errors.Is(err, ErrUnseal) {
		t.Errorf("Open of tampered value = %v", err)
	}
	if _, err := s.Open([]byte{1, 2}, nil); !errors.Is(err, ErrUnseal) {
		t.Errorf("Open of short value = %v", err)
	}
	os.WriteFile(filepath.Join(dir, KeyFile), []byte("short"), 0o600)
	if _, err := LoadOrCreateKey(dir); err == nil {
		t.Error("short key file accepted")
	}
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newTOTP(t *testing.T, c *clock) *TOTP {
	t.Helper()
	s, err := NewSealer(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	return NewTOTP("Reach", s, c.now)
}

func TestTOTPEnrollConfirmCheck(t *testing.T) {
	c := &clock{time.Date(2026, 3, 2, 9, 0, 10, 0, time.UTC)}
	tp := newTOTP(t, c)
	en, err := tp.Enroll(7, "jane@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(en.URL, "otpauth://totp/Reach:jane@example.com?") || len(en.Secret) != 32 ||
		!strings.HasPrefix(string(en.QRPNG), "\x89PNG") {
		t.Fatalf("enrollment %q %q", en.URL, en.Secret)
	}
	code, _ := Code(en.Secret, c.t)
	wrong := "000000"
	if wrong == code {
		wrong = "111111"
	}
	if _, _, err := tp.Confirm(7, en.State, wrong); !errors.Is(err, ErrBadCode) {
		t.Errorf("Confirm wrong code = %v", err)
	}
	if _, _, err := tp.Confirm(8, en.State, code); !errors.Is(err, ErrEnrollment) {
		t.Errorf("Confirm as another user = %v", err)
	}
	if _, _, err := tp.Confirm(7, en.State+"x", code); !errors.Is(err, ErrEnrollment) {
		t.Errorf("Confirm tampered state = %v", err)
	}
	sealed, step, err := tp.Confirm(7, en.State, code)
	if err != nil {
		t.Fatal(err)
	}
	if step != c.t.Unix()/30 {
		t.Errorf("step %d, want %d", step, c.t.Unix()/30)
	}
	if strings.Contains(string(sealed), en.Secret) {
		t.Error("stored secret is not sealed")
	}

	// Codes of the previous, current and next step pass; two steps off fail.
	for _, tc := range []struct {
		off  time.Duration
		step int64
		ok   bool
	}{
		{-30 * time.Second, step - 1, true}, {0, step, true}, {30 * time.Second, step + 1, true},
		{-60 * time.Second, 0, false}, {60 * time.Second, 0, false},
	} {
		code, _ := Code(en.Secret, c.t.Add(tc.off))
		got, err := tp.Check(7, sealed, code)
		if tc.ok && (err != nil || got != tc.step) {
			t.Errorf("offset %v: Check = %d, %v; want step %d", tc.off, got, err, tc.step)
		}
		if !tc.ok && !errors.Is(err, ErrBadCode) {
			t.Errorf("offset %v: Check = %d, %v; want ErrBadCode", tc.off, got, err)
		}
	}
	for _, bad := range []string{"", "12345", "1234567", "abcdef"} {
		if _, err := tp.Check(7, sealed, bad); !errors.Is(err, ErrBadCode) {
			t.Errorf("Check(%q) = %v", bad, err)
		}
	}
	// A secret sealed for user 7 does not open for user 8.
	if _, err := tp.Check(8, sealed, code); err == nil {
		t.Error("sealed secret of user 7 checked for user 8")
	}
	// The enrollment expires.
	en2, _ := tp.Enroll(7, "jane@example.com")
	c.t = c.t.Add(EnrollTTL + time.Second)
	code, _ = Code(en2.Secret, c.t)
	if _, _, err := tp.Confirm(7, en2.State, code); !errors.Is(err, ErrEnrollment) {
		t.Errorf("Confirm after expiry = %v", err)
	}
}

func TestSecrets(t *testing.T) {
	a, _ := NewSecret()
	b, _ := NewSecret()
	if a == b || !WellFormedSecret(a) || len(a) != 43 {
		t.Fatalf("secrets %q %q", a, b)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(a)
	if len(raw) != 32 {
		t.Fatalf("secret has %d bytes", len(raw))
	}
	for _, bad := range []string{"", "short", a + "x", strings.Repeat("!", 43)} {
		if WellFormedSecret(bad) {
			t.Errorf("WellFormedSecret(%q)", bad)
		}
	}
	if CSRFToken(a) == CSRFToken(b) || !CheckCSRF(a, CSRFToken(a)) || CheckCSRF(a, CSRFToken(b)) || CheckCSRF(a, "") {
		t.Error("CSRF tokens do not bind to their session")
	}
	if CSRFToken(a) == base64.RawURLEncoding.EncodeToString(HashSecret(a)) {
		t.Error("CSRF token equals the stored hash")
	}
	tok, hash, err := NewAPIToken()
	if err != nil || !strings.HasPrefix(tok, "reach_") {
		t.Fatalf("NewAPIToken = %q, %v", tok, err)
	}
	if h, ok := ParseAPIToken(tok); !ok || string(h) != string(hash) {
		t.Error("ParseAPIToken does not return the stored hash")
	}
	for _, bad := range []string{a, "reach_", "reach_" + a[:40], "Reach_" + a} {
		if _, ok := ParseAPIToken(bad); ok {
			t.Errorf("ParseAPIToken(%q) accepted", bad)
		}
	}
	codes, hashes, err := NewRecoveryCodes(RecoveryCodeCount)
	if err != nil || len(codes) != 10 || len(hashes) != 10 {
		t.Fatal(err)
	}
	if len(codes[0]) != 19 || codes[0] == codes[1] {
		t.Errorf("recovery codes %q", codes[:2])
	}
	typed := strings.ToUpper(strings.ReplaceAll(codes[3], "-", " "))
	if string(HashRecoveryCode(typed)) != string(hashes[3]) {
		t.Error("recovery code as typed does not hash to its stored hash")
	}
}

func TestThrottle(t *testing.T) {
	c := &clock{time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	th := NewThrottle(ThrottleOptions{AccountLimit: 3, AddressLimit: 5, Window: 10 * time.Minute, Lockout: 5 * time.Minute, Now: c.now})
	for range 2 {
		th.Fail("Jane@example.com", "192.0.2.1")
	}
	if w := th.Check("jane@example.com", "192.0.2.1"); w != 0 {
		t.Fatalf("locked after 2 failures: %v", w)
	}
	th.Fail("jane@example.com ", "192.0.2.2")
	if w := th.Check("jane@example.com", "198.51.100.7"); w != 5*time.Minute {
		t.Fatalf("account not locked after 3 failures from anywhere: %v", w)
	}
	if w := th.Check("bob@example.com", "192.0.2.1"); w != 0 {
		t.Fatalf("other account locked: %v", w)
	}
	c.t = c.t.Add(2 * time.Minute)
	if w := th.Check("jane@example.com", ""); w != 3*time.Minute {
		t.Fatalf("retry after %v, want 3m", w)
	}
	c.t = c.t.Add(3 * time.Minute)
	if w := th.Check("jane@example.com", ""); w != 0 {
		t.Fatalf("still locked after lockout: %v", w)
	}

	// An address is locked across accounts; IPv6 counts per /64.
	for i := range 5 {
		th.Fail("user"+string(rune('a'+i))+"@example.com", "2001:db8::1")
	}
	if w := th.Check("new@example.com", "2001:db8::ffff"); w == 0 {
		t.Fatal("IPv6 /64 not locked after 5 failures")
	}
	if w := th.Check("new@example.com", "2001:db8:0:1::1"); w != 0 {
		t.Fatal("other /64 locked")
	}

	// Failures outside the window do not add up; success clears the account.
	th.Fail("kim@example.com", "")
	th.Fail("kim@example.com", "")
	c.t = c.t.Add(11 * time.Minute)
	th.Fail("kim@example.com", "")
	if w := th.Check("kim@example.com", ""); w != 0 {
		t.Fatal("failures outside the window counted")
	}
	th.Fail("kim@example.com", "")
	th.Succeed("kim@example.com")
	th.Fail("kim@example.com", "")
	if w := th.Check("kim@example.com", ""); w != 0 {
		t.Fatal("success did not clear failures")
	}
}

func TestThrottleBoundsMemory(t *testing.T) {
	c := &clock{time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	th := NewThrottle(ThrottleOptions{MaxKeys: 100, Now: c.now})
	for i := range 1000 {
		th.Fail(string(rune(0x4e00+i))+"@example.com", "")
	}
	th.mu.Lock()
	n := len(th.accounts)
	th.mu.Unlock()
	if n > 100 {
		t.Fatalf("%d accounts tracked, bound is 100", n)
	}
}

func TestAddressKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1": "192.0.2.1", "::ffff:192.0.2.1": "192.0.2.1", "2001:db8::1": "2001:db8::/64", "garbage": "",
	} {
		if got := AddressKey(in); got != want {
			t.Errorf("AddressKey(%q) = %q, want %q", in, got, want)
		}
	}
}

package turnsrv

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/turn/v5"
)

func TestCredentialsFormat(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	user, pass := Credentials(testSecret, "sess-42", 10*time.Minute, now)
	if want := "1700000600:sess-42"; user != want {
		t.Errorf("username = %q, want %q", user, want)
	}
	// base64(HMAC-SHA1(secret, username)), computed with Python's hmac.
	if want := "/8m/Tgd0xchS4c1T2OCAyIyqcoc="; pass != want {
		t.Errorf("password = %q, want %q", pass, want)
	}
}

// TestCredentialsMatchPion checks Credentials against an independent
// implementation, pion's TURN REST generator.
func TestCredentialsMatchPion(t *testing.T) {
	pionUser, pionPass, err := turn.GenerateLongTermTURNRESTCredentials(string(testSecret), "sess-42", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	ts, _, _ := strings.Cut(pionUser, ":")
	expiry, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	user, pass := Credentials(testSecret, "sess-42", 0, time.Unix(expiry, 0))
	if user != pionUser || pass != pionPass {
		t.Errorf("Credentials = %q, %q; pion makes %q, %q", user, pass, pionUser, pionPass)
	}
}

func TestCheckUsername(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	valid, validPass := Credentials(testSecret, "sess-42", time.Minute, now)
	expired, expiredPass := Credentials(testSecret, "sess-42", time.Minute, now.Add(-2*time.Minute))
	atExpiry, _ := Credentials(testSecret, "sess-42", 0, now)
	const realm = "reach"

	tests := []struct {
		name     string
		username string
		password string // what the client uses; its key must match the server's
		wantErr  error
		wantKey  bool // whether the client's key equals the server's
	}{
		{name: "valid", username: valid, password: validPass, wantKey: true},
		{name: "valid until the second it expires", username: atExpiry, password: restPassword(testSecret, atExpiry), wantKey: true},
		{name: "wrong password", username: valid, password: "d3JvbmcgcGFzc3dvcmQ=", wantKey: false},
		{name: "other secret", username: valid, password: restPassword([]byte("other"), valid), wantKey: false},
		{name: "password of another username", username: valid, password: expiredPass, wantKey: false},
		{name: "expired", username: expired, password: expiredPass, wantErr: errExpiredUsername},
		{name: "empty", username: "", wantErr: errMalformedUsername},
		{name: "no separator", username: "1700000060", wantErr: errMalformedUsername},
		{name: "no expiry", username: ":sess-42", wantErr: errMalformedUsername},
		{name: "non-numeric expiry", username: "soon:sess-42", wantErr: errMalformedUsername},
		{name: "signed expiry", username: "+1700000060:sess-42", wantErr: errMalformedUsername},
		{name: "negative expiry", username: "-1:sess-42", wantErr: errMalformedUsername},
		{name: "expiry overflows", username: "99999999999999999999:sess-42", wantErr: errMalformedUsername},
		{name: "id first (coturn's other order)", username: "sess-42:1700000060", wantErr: errMalformedUsername},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, password, err := checkUsername(testSecret, tt.username, now)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("checkUsername(%q) error = %v, want %v", tt.username, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if id != "sess-42" {
				t.Errorf("id = %q, want sess-42", id)
			}
			serverKey := turn.GenerateAuthKey(tt.username, realm, password)
			clientKey := turn.GenerateAuthKey(tt.username, realm, tt.password)
			if got := bytes.Equal(serverKey, clientKey); got != tt.wantKey {
				t.Errorf("keys equal = %v, want %v", got, tt.wantKey)
			}
		})
	}
}

func TestCredentialsIDWithSeparator(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	user, _ := Credentials(testSecret, "org:7", time.Minute, now)
	id, _, err := checkUsername(testSecret, user, now)
	if err != nil || id != "org:7" {
		t.Fatalf("checkUsername(%q) = %q, %v; want org:7, nil", user, id, err)
	}
	if ts, _, _ := strings.Cut(user, ":"); ts != strconv.FormatInt(now.Add(time.Minute).Unix(), 10) {
		t.Errorf("username %q does not start with the expiry", user)
	}
}

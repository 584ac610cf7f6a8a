package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/reachdesk/reach/console/auth"
)

// totpStep is the RFC 6238 time step of t.
func totpStep(t time.Time) int64 { return t.Unix() / 30 }

// TestConsoleLoginTOTP: a technician turns on two-factor authentication
// on the account page, signs out, and signs in again with password and a
// TOTP code; a wrong code is refused with a message.
func TestConsoleLoginTOTP(t *testing.T) {
	c := NewConsole(t)
	relay := StartRelay(t, c)
	cs := StartConsoleServer(t, c, relay)
	fleet := cs.SetUpFleet(t)
	b := OpenConsole(t, cs, fleet.TechEmail)
	installCSPWatch(b)

	b.MustEval("document.querySelector('#me-name').click()", nil)
	waitJS(t, b, "document.querySelector('#totp-start')", 15*time.Second)
	b.MustEval("document.querySelector('#totp-start').click()", nil)
	waitJS(t, b, "document.activeElement?.id === 'totp-code'", 15*time.Second)
	var secret string
	b.MustEval("document.querySelector('#totp-secret').textContent", &secret)
	now := time.Now()
	code, err := auth.Code(secret, now)
	if err != nil {
		t.Fatal(err)
	}
	b.Must(map[string]any{"op": "type", "text": code}, nil)
	b.Must(map[string]any{"op": "press", "key": "Enter"}, nil)
	waitJS(t, b, "document.querySelector('#recovery-codes')?.textContent.length > 20", 15*time.Second)
	screenshot(t, b, "account-2fa")

	b.MustEval("document.querySelector('#sign-out').click()", nil)
	waitJS(t, b, "document.activeElement?.id === 'login-email'", 15*time.Second)
	b.Must(map[string]any{"op": "type", "text": fleet.TechEmail}, nil)
	b.Must(map[string]any{"op": "press", "key": "Tab"}, nil)
	b.Must(map[string]any{"op": "type", "text": Password}, nil)
	b.Must(map[string]any{"op": "press", "key": "Enter"}, nil)
	waitJS(t, b, "document.activeElement?.id === 'login-totp'", 15*time.Second)
	screenshot(t, b, "login-totp")

	b.Must(map[string]any{"op": "type", "text": "000000"}, nil)
	b.Must(map[string]any{"op": "press", "key": "Enter"}, nil)
	waitJS(t, b, "document.querySelector('#totp-form [role=alert]')?.textContent.length > 0", 10*time.Second)
	if got := text(t, b, "#totp-form [role=alert]"); strings.TrimSpace(got) == "" {
		t.Error("no message for a wrong code")
	}

	// The code of the confirmation's step was used up: wait for the next.
	for totpStep(time.Now()) == totpStep(now) {
		time.Sleep(200 * time.Millisecond)
	}
	code, _ = auth.Code(secret, time.Now())
	b.MustEval("document.querySelector('#login-totp').value = ''; document.querySelector('#login-totp').focus()", nil)
	b.Must(map[string]any{"op": "type", "text": code}, nil)
	b.Must(map[string]any{"op": "press", "key": "Enter"}, nil)
	waitJS(t, b, "document.querySelector('#me-name')?.textContent === 'Tess Tech'", 15*time.Second)
	consoleErrors(t, b)
}

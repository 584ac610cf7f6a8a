package turnsrv

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // HMAC-SHA1 is what the TURN REST scheme and coturn use.
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// Credentials returns short-lived TURN credentials for one session in the
// TURN REST scheme (draft-uberti-behave-turn-rest, coturn's use-auth-secret):
//
//	username = "<unix-expiry>:<id>"
//	password = base64(HMAC-SHA1(secret, username))
//
// They expire at now+ttl, rounded down to the second; a ttl <= 0 yields
// credentials that are already refused. The expiry is checked on every
// authenticated TURN request, refreshes included, so ttl must cover the
// longest session the credentials are meant for.
func Credentials(secret []byte, id string, ttl time.Duration, now time.Time) (username, password string) {
	username = strconv.FormatInt(now.Add(ttl).Unix(), 10) + ":" + id
	return username, restPassword(secret, username)
}

// restPassword is the TURN REST password for username.
func restPassword(secret []byte, username string) string {
	mac := hmac.New(sha1.New, secret)
	mac.Write([]byte(username)) // hash.Hash.Write never fails
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// checkUsername parses a TURN REST username, refuses it if it has expired
// at now, and returns the id it carries and the password that goes with it.
// The password is never compared here: the TURN server proves the client
// knows it through the request's MESSAGE-INTEGRITY.
func checkUsername(secret []byte, username string, now time.Time) (id, password string, err error) {
	ts, id, ok := strings.Cut(username, ":")
	if !ok {
		return "", "", errMalformedUsername
	}
	// ParseUint takes no sign, so "+5" and "-5" are malformed, as in coturn.
	expiry, err := strconv.ParseUint(ts, 10, 63)
	if err != nil {
		return "", "", errMalformedUsername
	}
	if now.Unix() > int64(expiry) {
		return "", "", errExpiredUsername
	}
	return id, restPassword(secret, username), nil
}

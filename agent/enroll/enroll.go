package enroll

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	wire "github.com/reachdesk/reach/proto/agentapi"
)

// Errors of Enroll.
var (
	// ErrRefused: the console refused the enrollment token.
	ErrRefused = errors.New("the console refused the enrollment token: it is wrong, expired, used up or revoked")
	// ErrAlreadyEnrolled: the state directory holds an identity and Force
	// was not set.
	ErrAlreadyEnrolled = errors.New("this device is already enrolled; enroll again only on purpose, with --force")
)

// Options say how to enroll.
type Options struct {
	// Server is the console's base URL, https://… (http:// only for
	// loopback tests).
	Server string
	// Token is the enrollment secret.
	Token string
	// Dir is the state directory.
	Dir string
	// Force replaces an existing identity (re-enrollment).
	Force bool
	// Hostname names the device; empty means os.Hostname.
	Hostname string
	// Inventory is the first full report (JSON of an inventory.Report);
	// nil sends none.
	Inventory []byte
	// HTTPClient sends the request; nil means a client with a 60 s timeout.
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Result is what an enrollment produced.
type Result struct {
	State *State
	// Inventory is the console's answer to the first report, nil if it
	// was not sent or not stored.
	Inventory *wire.ReportResponse
}

// Enroll registers the device with the console and stores its identity.
func Enroll(ctx context.Context, opts Options) (*Result, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 60 * time.Second}
	}
	server, err := ServerURL(opts.Server)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(opts.Token) == "" {
		return nil, errors.New("an enrollment token is required")
	}
	if opts.Dir == "" {
		return nil, errors.New("a state directory is required")
	}
	enrolled, err := Enrolled(opts.Dir)
	if err != nil {
		return nil, err
	}
	if enrolled && !opts.Force {
		if st, err := Load(opts.Dir); err == nil {
			return nil, fmt.Errorf("%w (device %d at %s)", ErrAlreadyEnrolled, st.DeviceID, st.Server)
		}
		return nil, ErrAlreadyEnrolled
	}
	if opts.Hostname == "" {
		opts.Hostname, _ = os.Hostname()
	}
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("enroll: generate key: %w", err)
	}
	body, err := json.Marshal(wire.EnrollRequest{Token: strings.TrimSpace(opts.Token), PublicKey: wire.EncodeKey(pub),
		Hostname: opts.Hostname, Inventory: opts.Inventory})
	if err != nil {
		return nil, fmt.Errorf("enroll: encode request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, server+wire.PathEnroll, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("enroll: request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := opts.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("enroll: cannot reach the console: %w", err)
	}
	defer resp.Body.Close()
	var er wire.EnrollResponse
	if err := decodeAnswer(resp, &er); err != nil {
		var ae *APIError
		if errors.As(err, &ae) {
			switch ae.Code {
			case wire.CodeEnrollmentRefused:
				return nil, ErrRefused
			case wire.CodeRateLimited:
				return nil, errors.New("the console is refusing enrollments from this address for a minute; try again")
			}
		}
		return nil, fmt.Errorf("enroll: %w", err)
	}
	id, err := strconv.ParseInt(er.DeviceID, 10, 64)
	if err != nil || id <= 0 || er.Token == "" || strings.ContainsAny(er.Token, " \r\n") {
		return nil, errors.New("enroll: the console's answer is malformed")
	}
	keys, err := decodeKeys(er.ConsoleKeys)
	if err != nil {
		return nil, fmt.Errorf("enroll: %w", err)
	}
	st := &State{Dir: opts.Dir, DeviceID: id, Server: server, RelayURL: er.RelayURL, Key: key, ConsoleKeys: keys,
		ReportInterval: time.Duration(er.ReportInterval) * time.Second, EnrolledAt: opts.Now()}
	if err := st.save(er.Token); err != nil {
		return nil, err
	}
	return &Result{State: st, Inventory: er.Inventory}, nil
}

// ServerURL checks and normalizes a console URL: https, or http to a
// loopback address (tests), without a trailing slash.
func ServerURL(s string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("the console URL must look like https://help.example.com, not %q", s)
	}
	switch u.Scheme {
	case "https":
	case "http":
		host := u.Hostname()
		if host != "localhost" && host != "127.0.0.1" && host != "::1" {
			return "", errors.New("the console URL must use https (http only for localhost)")
		}
	default:
		return "", fmt.Errorf("the console URL must use https, not %q", u.Scheme)
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

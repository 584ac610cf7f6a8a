package enroll

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/reachdesk/reach/proto"
	wire "github.com/reachdesk/reach/proto/agentapi"
)

// maxResponse bounds what the agent reads of a console answer.
const maxResponse = 1 << 20

// APIError is an error answer of the console.
type APIError struct {
	Status  int    // HTTP status
	Code    string // wire.Code*
	Message string
	State   string // with wire.CodeBaseMismatch: the state the console holds
}

func (e *APIError) Error() string {
	return fmt.Sprintf("console answered %d %s: %s", e.Status, e.Code, e.Message)
}

// Permanent reports whether retrying the same request cannot succeed: the
// console refused it as invalid, too large or not for this device.
func (e *APIError) Permanent() bool {
	switch e.Status {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity, http.StatusNotFound,
		http.StatusConflict:
		return true
	}
	return false
}

// ClientOptions configure a Client. Zero values take the defaults noted.
type ClientOptions struct {
	// HTTPClient sends the requests; nil means a client with a 90 s
	// timeout (longer than the command long poll).
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Client calls the console's device API as an enrolled device, signing
// every request with the device key. When the console says the agent's
// clock is off, it corrects the signing time by the console's Date and
// retries once. It is safe for concurrent use.
type Client struct {
	st   *State
	http *http.Client
	now  func() time.Time

	mu     sync.Mutex
	offset time.Duration // guarded by mu: console clock − local clock
}

// NewClient returns a client for the enrolled device st.
func NewClient(st *State, opts ClientOptions) *Client {
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 90 * time.Second}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Client{st: st, http: opts.HTTPClient, now: opts.Now}
}

// State returns the device's identity.
func (c *Client) State() *State { return c.st }

// Do sends a signed request to path (with its query) and decodes a 2xx
// answer's JSON into out (if not nil). Error answers are *APIError.
func (c *Client) Do(ctx context.Context, method, pathQuery string, body []byte, out any) error {
	for attempt := 0; ; attempt++ {
		err := c.do(ctx, method, pathQuery, body, out)
		var ae *APIError
		if attempt == 0 && errors.As(err, &ae) && ae.Code == wire.CodeClockSkew {
			continue // do adjusted the offset
		}
		return err
	}
}

func (c *Client) do(ctx context.Context, method, pathQuery string, body []byte, out any) error {
	u, err := url.Parse(strings.TrimSuffix(c.st.Server, "/") + pathQuery)
	if err != nil {
		return fmt.Errorf("enroll: console URL: %w", err)
	}
	c.mu.Lock()
	now := c.now().Add(c.offset)
	c.mu.Unlock()
	authz, err := wire.Sign(c.st.Key, c.st.DeviceID, method, u.RequestURI(), body, now)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("enroll: request: %w", err)
	}
	req.Header.Set("Authorization", authz)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}
	defer resp.Body.Close()
	err = decodeAnswer(resp, out)
	var ae *APIError
	if errors.As(err, &ae) && ae.Code == wire.CodeClockSkew {
		if t, perr := http.ParseTime(resp.Header.Get("Date")); perr == nil {
			c.mu.Lock()
			c.offset = t.Sub(c.now())
			c.mu.Unlock()
		}
	}
	return err
}

// decodeAnswer decodes a 2xx JSON body into out, or an error body into an
// *APIError.
func decodeAnswer(resp *http.Response, out any) error {
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("console: read answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		var e wire.Error
		if json.Unmarshal(b, &e) != nil || e.Error.Code == "" {
			return &APIError{Status: resp.StatusCode, Code: wire.CodeInternal, Message: http.StatusText(resp.StatusCode)}
		}
		return &APIError{Status: resp.StatusCode, Code: e.Error.Code, Message: e.Error.Message, State: e.Error.State}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("console: malformed answer: %w", err)
	}
	return nil
}

// RefreshToken gets a fresh relay token and stores it in the state
// directory, where the relay connection reads it at each (re)connect. It
// also stores the console keys the console names now.
func (c *Client) RefreshToken(ctx context.Context) (*wire.TokenResponse, error) {
	var tr wire.TokenResponse
	if err := c.Do(ctx, http.MethodGet, wire.PathToken, nil, &tr); err != nil {
		return nil, err
	}
	if tr.Token == "" || strings.ContainsAny(tr.Token, " \r\n") {
		return nil, errors.New("console: malformed token answer")
	}
	if err := WriteFile(filepath.Join(c.st.Dir, TokenFile), []byte(tr.Token+"\n")); err != nil {
		return nil, err
	}
	// A rotated console key is picked up by the next `serve`: sessions
	// verify grants with the keys read at start.
	if keys, err := decodeKeys(tr.ConsoleKeys); err == nil && !sameKeys(keys, c.st.ConsoleKeys) {
		var pem []byte
		for _, k := range keys {
			b, err := proto.MarshalPublicKey(k)
			if err != nil {
				return nil, fmt.Errorf("enroll: encode console key: %w", err)
			}
			pem = append(pem, b...)
		}
		if err := WriteFile(filepath.Join(c.st.Dir, ConsoleFile), pem); err != nil {
			return nil, err
		}
	}
	return &tr, nil
}

func decodeKeys(enc []string) ([]ed25519.PublicKey, error) {
	if len(enc) == 0 || len(enc) > 8 {
		return nil, errors.New("console: expected 1 to 8 console keys")
	}
	keys := make([]ed25519.PublicKey, len(enc))
	for i, s := range enc {
		k, err := wire.DecodeKey(s)
		if err != nil {
			return nil, err
		}
		keys[i] = k
	}
	return keys, nil
}

func sameKeys(a, b []ed25519.PublicKey) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(b[i]) {
			return false
		}
	}
	return true
}

// Package enroll registers a device with the console and keeps its identity:
// it generates the device's Ed25519 key pair, calls POST /agent/v1/enroll
// with an enrollment token, and stores the device id, keys, the console's
// public keys, the relay URL and the reporting settings in the state
// directory with owner-only permissions (0700 directory, 0600 files, each
// written atomically). Client then signs the agent's requests to the
// console with the device key (proto/agentapi) and refreshes the relay
// token.
package enroll

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/reachdesk/reach/proto"
)

// Files in the state directory. device.key, device.token and console.pub
// are the ones `reach-agent join/serve` read.
const (
	KeyFile     = "device.key"   // Ed25519 private key, PKCS #8 PEM
	TokenFile   = "device.token" // the relay token, refreshed by the agent
	ConsoleFile = "console.pub"  // the console's public keys, PEM
	ConfigFile  = "agent.json"   // device id, console and relay URLs, settings; written last
)

// ErrNotEnrolled is returned by Load for a state directory without an
// identity.
var ErrNotEnrolled = errors.New("enroll: this device is not enrolled (run reach-agent enroll)")

// State is an enrolled device's identity and settings.
type State struct {
	Dir            string
	DeviceID       int64
	Server         string // the console's base URL
	RelayURL       string // empty: the console named none
	Key            ed25519.PrivateKey
	ConsoleKeys    []ed25519.PublicKey
	ReportInterval time.Duration
	EnrolledAt     time.Time
}

// config is ConfigFile's content.
type config struct {
	DeviceID       int64     `json:"device_id"`
	Server         string    `json:"server"`
	RelayURL       string    `json:"relay_url,omitempty"`
	ReportInterval int       `json:"report_interval_s,omitempty"`
	EnrolledAt     time.Time `json:"enrolled_at"`
}

// Enrolled reports whether dir holds a device identity.
func Enrolled(dir string) (bool, error) {
	_, err := os.Stat(filepath.Join(dir, ConfigFile))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	return false, fmt.Errorf("enroll: %w", err)
}

// Load reads the identity in dir.
func Load(dir string) (*State, error) {
	b, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotEnrolled
	}
	if err != nil {
		return nil, fmt.Errorf("enroll: read state: %w", err)
	}
	var c config
	if err := json.Unmarshal(b, &c); err != nil || c.DeviceID <= 0 || c.Server == "" {
		return nil, fmt.Errorf("enroll: %s is damaged; enroll again with --force", filepath.Join(dir, ConfigFile))
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, KeyFile))
	if err != nil {
		return nil, fmt.Errorf("enroll: read device key: %w", err)
	}
	key, err := proto.ParsePrivateKey(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("enroll: %s: %w", KeyFile, err)
	}
	pubPEM, err := os.ReadFile(filepath.Join(dir, ConsoleFile))
	if err != nil {
		return nil, fmt.Errorf("enroll: read console keys: %w", err)
	}
	pubs, err := proto.ParsePublicKeys(pubPEM)
	if err != nil || len(pubs) == 0 {
		return nil, fmt.Errorf("enroll: %s holds no Ed25519 public key", ConsoleFile)
	}
	return &State{Dir: dir, DeviceID: c.DeviceID, Server: c.Server, RelayURL: c.RelayURL, Key: key, ConsoleKeys: pubs,
		ReportInterval: time.Duration(c.ReportInterval) * time.Second, EnrolledAt: c.EnrolledAt}, nil
}

// save writes every file of s, the config last, so that a crash midway
// leaves the previous identity's config (or none) in place.
func (s *State) save(token string) error {
	if err := EnsureDir(s.Dir); err != nil {
		return err
	}
	keyPEM, err := proto.MarshalPrivateKey(s.Key)
	if err != nil {
		return fmt.Errorf("enroll: encode device key: %w", err)
	}
	var pubPEM []byte
	for _, k := range s.ConsoleKeys {
		b, err := proto.MarshalPublicKey(k)
		if err != nil {
			return fmt.Errorf("enroll: encode console key: %w", err)
		}
		pubPEM = append(pubPEM, b...)
	}
	cfg, err := json.MarshalIndent(config{DeviceID: s.DeviceID, Server: s.Server, RelayURL: s.RelayURL,
		ReportInterval: int(s.ReportInterval / time.Second), EnrolledAt: s.EnrolledAt.UTC()}, "", "  ")
	if err != nil {
		return fmt.Errorf("enroll: encode config: %w", err)
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{KeyFile, keyPEM}, {ConsoleFile, pubPEM}, {TokenFile, []byte(token + "\n")}, {ConfigFile, append(cfg, '\n')}} {
		if err := WriteFile(filepath.Join(s.Dir, f.name), f.data); err != nil {
			return err
		}
	}
	return nil
}

// EnsureDir creates dir with mode 0700, or tightens an existing one to it.
func EnsureDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("enroll: state directory: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("enroll: state directory: %w", err)
	}
	return nil
}

// WriteFile writes data to path atomically with mode 0600: a temporary file
// in the same directory, fsynced, renamed over path, and the directory
// fsynced, so that a crash leaves either the old or the new content.
func WriteFile(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	ok = true
	return SyncDir(dir)
}

// SyncDir fsyncs a directory, making renames and removals in it durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// Token reads the current relay token.
func (s *State) Token() (string, error) {
	b, err := os.ReadFile(filepath.Join(s.Dir, TokenFile))
	if err != nil {
		return "", fmt.Errorf("enroll: read device token: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

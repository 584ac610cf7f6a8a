package installer

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"sort"
	"strings"
)

// Unattended is the policy chosen at install for technicians' unattended
// connects (their role must permit unattended access in the console).
type Unattended string

const (
	// UnattendedConsent asks the logged-in user every time; no answer denies.
	UnattendedConsent Unattended = "consent"
	// UnattendedAllow lets a technician whose role permits unattended access
	// connect with the permissions the console granted, without asking.
	UnattendedAllow Unattended = "allow"
)

// ParseUnattended checks a policy name.
func ParseUnattended(s string) (Unattended, error) {
	switch u := Unattended(s); u {
	case UnattendedConsent, UnattendedAllow:
		return u, nil
	}
	return "", fmt.Errorf("unattended policy must be consent or allow, not %q", s)
}

// consentPolicy is the agent's -policy value (agent/consent) for u.
func (u Unattended) consentPolicy() string {
	if u == UnattendedAllow {
		return "control"
	}
	return "ask"
}

// Config is the agent's settings as install writes them: KEY=value lines
// that the service reads as its environment (systemd EnvironmentFile), so
// each REACH_AGENT_<FLAG> sets the flag of `reach-agent serve`. It holds
// no secret: the device key and tokens live in the state directory.
type Config struct {
	// Server is the console URL the device enrolled with.
	Server string
	// Relay is the relay URL for sessions; empty lets the agent use what
	// enrollment stored.
	Relay string
	// Unattended is the consent policy for unattended connects.
	Unattended Unattended
	// Display and XAuthority locate the X display the agent shares; empty
	// Display means ":0".
	Display, XAuthority string
}

// Config keys. The REACH_AGENT_* ones are flags of reach-agent serve.
const (
	keyServer     = "REACH_AGENT_SERVER"
	keyRelay      = "REACH_AGENT_RELAY"
	keyState      = "REACH_AGENT_STATE"
	keyPolicy     = "REACH_AGENT_POLICY"
	keyUnattended = "REACH_AGENT_UNATTENDED" // the install choice, for status and re-install
	keyUI         = "REACH_AGENT_UI"
	keyDisplay    = "DISPLAY"
	keyXAuth      = "XAUTHORITY"
)

// Validate checks the settings before anything is written.
func (c Config) Validate() error {
	if err := checkURL("server", c.Server, "https", "http"); err != nil {
		return err
	}
	if c.Relay != "" {
		if err := checkURL("relay", c.Relay, "wss", "ws", "https", "http"); err != nil {
			return err
		}
	}
	if _, err := ParseUnattended(string(c.Unattended)); err != nil {
		return err
	}
	for name, v := range map[string]string{"display": c.Display, "xauthority": c.XAuthority} {
		if strings.ContainsAny(v, "\"'\\$`\n\r\t ") || len(v) > 256 {
			return fmt.Errorf("%s %q has characters not allowed in the config file", name, v)
		}
	}
	if c.XAuthority != "" && !strings.HasPrefix(c.XAuthority, "/") {
		return fmt.Errorf("xauthority must be an absolute path, not %q", c.XAuthority)
	}
	return nil
}

func checkURL(name, s string, schemes ...string) error {
	if s == "" {
		return fmt.Errorf("%s URL is required", name)
	}
	if len(s) > 2048 || strings.ContainsAny(s, "\"'\\$`\n\r\t ") {
		return fmt.Errorf("%s URL %q has characters not allowed", name, s)
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%s URL: %w", name, err)
	}
	for _, sc := range schemes {
		if u.Scheme == sc && u.Host != "" {
			if u.User != nil {
				return fmt.Errorf("%s URL must not carry credentials", name)
			}
			// Plain http/ws would let anyone on the path enroll the device
			// to themselves: only to this machine (tests, all-in-one).
			if (sc == "http" || sc == "ws") && !loopback(u.Hostname()) {
				return fmt.Errorf("%s URL %q: use %ss:// (plain %s only to this machine)", name, s, sc, sc)
			}
			return nil
		}
	}
	return fmt.Errorf("%s URL %q: want %s://host", name, s, strings.Join(schemes, "|"))
}

// Marshal renders the config file for a device whose state is in stateDir.
func (c Config) Marshal(stateDir string) []byte {
	kv := map[string]string{
		keyServer:     c.Server,
		keyState:      stateDir,
		keyPolicy:     c.Unattended.consentPolicy(),
		keyUnattended: string(c.Unattended),
		keyDisplay:    c.Display,
		// A system service has no terminal, and must not open a browser as
		// root on the user's display: it asks the signed-in user through
		// their `reach-agent ui` (autostarted), over the socket
		// /run/reach-agent/ui.sock (docs/install.md).
		keyUI: "bridge",
	}
	if kv[keyDisplay] == "" {
		kv[keyDisplay] = ":0"
	}
	if c.Relay != "" {
		kv[keyRelay] = c.Relay
	}
	if c.XAuthority != "" {
		kv[keyXAuth] = c.XAuthority
	}
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	b.WriteString("# Reach agent settings, written by `reach-agent install`; owner-only.\n")
	b.WriteString("# The service reads them as its environment: REACH_AGENT_<FLAG> sets the\n")
	b.WriteString("# flag of `reach-agent serve`. Re-run install to change them.\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", k, kv[k])
	}
	return b.Bytes()
}

// ReadConfig reads a config file written by Marshal.
func ReadConfig(name string) (Config, error) {
	kv, err := readKV(name)
	if err != nil {
		return Config{}, err
	}
	c := Config{Server: kv[keyServer], Relay: kv[keyRelay], Unattended: Unattended(kv[keyUnattended]),
		Display: kv[keyDisplay], XAuthority: kv[keyXAuth]}
	if c.Server == "" {
		return c, errors.New(name + ": no " + keyServer)
	}
	return c, nil
}

// LoadEnv sets the config file's settings as environment variables, as
// systemd's EnvironmentFile does; the service command uses it on macOS and
// Windows.
func LoadEnv(name string) error {
	kv, err := readKV(name)
	if err != nil {
		return err
	}
	for k, v := range kv {
		if err := os.Setenv(k, v); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// readKV parses KEY=value lines; blank lines and # comments are skipped.
func readKV(name string) (map[string]string, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	kv := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%s:%d: want KEY=value", name, n)
		}
		kv[k] = v
	}
	return kv, sc.Err()
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

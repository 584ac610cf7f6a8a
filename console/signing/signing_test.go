package signing

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/reachdesk/reach/proto"
)

func TestLoadOrCreateKeepsTheKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	k1, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := LoadOrCreate(dir)
	if err != nil || !k1.Equal(k2) {
		t.Fatalf("second load: %v (equal %v)", err, k1.Equal(k2))
	}
	st, err := os.Stat(filepath.Join(dir, PrivateKeyFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("private key mode %v, %v", st.Mode(), err)
	}
	pem, _ := os.ReadFile(filepath.Join(dir, PublicKeyFile))
	pubs, err := proto.ParsePublicKeys(pem)
	if err != nil || !pubs[0].Equal(k1.Public()) {
		t.Fatalf("public key file does not match: %v", err)
	}
}

func TestIssueVerifies(t *testing.T) {
	key, _ := LoadOrCreate(t.TempDir())
	s := New(key, nil)
	tok, err := s.Issue(proto.Claims{Kind: proto.KindDevice, Name: "pc"}, proto.AudienceRelay, time.Minute)
	if err == nil {
		t.Fatal("issued a token without subject")
	}
	c := proto.Claims{Kind: proto.KindDevice, Name: "pc"}
	c.Subject = "dev-1"
	if tok, err = s.Issue(c, proto.AudienceRelay, time.Minute); err != nil {
		t.Fatal(err)
	}
	got, err := proto.NewVerifier(proto.AudienceRelay, nil, s.PublicKey()).Verify(tok, proto.KindDevice)
	if err != nil || got.Subject != "dev-1" || got.ID == "" {
		t.Fatalf("verify: %+v, %v", got, err)
	}
}

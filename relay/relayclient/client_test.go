package relayclient_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"go.uber.org/goleak"

	"github.com/reachdesk/reach/proto"
	"github.com/reachdesk/reach/relay"
	"github.com/reachdesk/reach/relay/relayclient"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestBackoffBounds(t *testing.T) {
	b := relayclient.Backoff{Min: 100 * time.Millisecond, Max: 2 * time.Second}
	for n := range 12 {
		ceil := min(100*time.Millisecond<<n, 2*time.Second)
		lo, hi := time.Hour, time.Duration(0)
		for range 2000 {
			d := b.Delay(n)
			if d < 50*time.Millisecond || d > ceil {
				t.Fatalf("attempt %d: delay %v outside [50ms, %v]", n, d, ceil)
			}
			lo, hi = min(lo, d), max(hi, d)
		}
		// Jitter: delays spread over most of the range, not one value.
		if hi-lo < (ceil-50*time.Millisecond)/2 {
			t.Fatalf("attempt %d: delays only span %v..%v", n, lo, hi)
		}
	}
}

type relayFixture struct {
	key ed25519.PrivateKey
	url string
	srv *httptest.Server
	rs  *relay.Server
}

func startRelay(t *testing.T, key ed25519.PrivateKey, l net.Listener, opts relay.Options) *relayFixture {
	t.Helper()
	v := proto.NewVerifier(proto.AudienceRelay, nil, key.Public().(ed25519.PublicKey))
	opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	rs := relay.New(v, opts)
	srv := &httptest.Server{Listener: l, Config: &http.Server{Handler: rs.Handler()}}
	srv.Start()
	f := &relayFixture{key: key, url: "ws://" + l.Addr().String() + "/v1/agent", srv: srv, rs: rs}
	t.Cleanup(f.stop)
	return f
}

func (f *relayFixture) stop() { f.rs.Close(); f.srv.Close() }

func (f *relayFixture) token(t *testing.T, sub string) string {
	now := time.Now()
	tok, err := proto.SignToken(f.key, proto.Claims{
		RegisteredClaims: jwt.RegisteredClaims{Subject: sub, Audience: jwt.ClaimStrings{proto.AudienceRelay}, ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))},
		Kind:             proto.KindDevice,
	}, now)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func newKey(t *testing.T) ed25519.PrivateKey {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func listen(t *testing.T, addr string) net.Listener {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestRunReconnectsAfterRelayRestart(t *testing.T) {
	key := newKey(t)
	f := startRelay(t, key, listen(t, "127.0.0.1:0"), relay.Options{})
	addr := f.srv.Listener.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	var connects atomic.Int32
	connected := make(chan struct{}, 4)
	done := make(chan error, 1)
	go func() {
		done <- relayclient.Run(ctx, f.url, relayclient.RunOptions{
			Token:   func(context.Context) (string, error) { return f.token(t, "dev-1"), nil },
			Backoff: relayclient.Backoff{Min: 20 * time.Millisecond, Max: 200 * time.Millisecond},
		}, func(ctx context.Context, c *relayclient.Conn) {
			connects.Add(1)
			connected <- struct{}{}
			<-ctx.Done()
		})
	}()
	wait := func(what string) {
		select {
		case <-connected:
		case <-time.After(10 * time.Second):
			t.Fatalf("no %s", what)
		}
	}
	wait("first connection")
	f.stop()
	startRelay(t, key, listen(t, addr), relay.Options{})
	wait("reconnection after the restart")
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	if n := connects.Load(); n != 2 {
		t.Fatalf("%d connections, want 2", n)
	}
}

func TestRunStopsOnUpgradeRequired(t *testing.T) {
	f := startRelay(t, newKey(t), listen(t, "127.0.0.1:0"), relay.Options{MinCapability: proto.Capability + 1})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := relayclient.Run(ctx, f.url, relayclient.RunOptions{
		Token:   func(context.Context) (string, error) { return f.token(t, "dev-1"), nil },
		Backoff: relayclient.Backoff{Min: 10 * time.Millisecond, Max: 20 * time.Millisecond},
	}, func(context.Context, *relayclient.Conn) { t.Error("served a refused connection") })
	if proto.CodeOf(err) != proto.CodeUpgradeRequired {
		t.Fatalf("Run = %v, want upgrade_required", err)
	}
}

func TestDialReportsRefusal(t *testing.T) {
	f := startRelay(t, newKey(t), listen(t, "127.0.0.1:0"), relay.Options{})
	other := &relayFixture{key: newKey(t)}
	_, err := relayclient.Dial(context.Background(), f.url, other.token(t, "dev-1"), relayclient.DialOptions{})
	if proto.CodeOf(err) != proto.CodeUnauthorized {
		t.Fatalf("Dial with a foreign token = %v, want unauthorized", err)
	}
}

package turnsrv

import (
	"log/slog"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkRelayThroughput sends 1200-byte datagrams (a typical WebRTC
// media packet) from one pion TURN client to another over loopback, both
// relayed, as two relay-only WebRTC peers are: client A → server → A's relay
// socket → B's relay socket → server → client B. Each packet crosses the
// server twice. The sender keeps at most window packets in flight, so the
// result is the sustained rate, not the rate at which the kernel drops.
func BenchmarkRelayThroughput(b *testing.B) {
	const (
		size   = 1200
		window = 64 // 64 × 1200 B stays well inside default socket buffers
	)
	s, addr := mustServer(b, 1, Options{AllowLoopback: true, Logger: slog.New(slog.DiscardHandler)})
	user, pass := Credentials(testSecret, "bench", time.Hour, time.Now())
	sender, err := mustTURNClient(b, addr, user, pass).Allocate()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = sender.Close() })
	receiver, err := mustTURNClient(b, addr, user, pass).Allocate()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = receiver.Close() })

	// The receiver's allocation must permit the sender's relay address.
	if _, err := receiver.WriteTo([]byte("permit"), sender.LocalAddr()); err != nil {
		b.Fatal(err)
	}
	const warmUp, measured = 0, 1   // first payload byte
	var warm, received atomic.Int64 // packets received per kind
	var lastAt atomic.Int64         // when the last measured packet arrived, Unix ns
	go func() {
		buf := make([]byte, 1600)
		for {
			n, _, err := receiver.ReadFrom(buf)
			switch {
			case err != nil:
				return // closed
			case n == size && buf[0] == measured:
				received.Add(1)
				lastAt.Store(time.Now().UnixNano())
			case n == size:
				warm.Add(1)
			}
		}
	}()
	// Warm up until the channel bindings are in place and packets flow.
	payload := make([]byte, size)
	payload[0] = warmUp
	for deadline := time.Now().Add(5 * time.Second); warm.Load() < 10; {
		if time.Now().After(deadline) {
			b.Fatal("no packet relayed during warm-up")
		}
		if _, err := sender.WriteTo(payload, receiver.LocalAddr()); err != nil {
			b.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	payload[0] = measured
	bytesBefore := s.Stats().BytesToPeers

	b.ResetTimer()
	start := time.Now()
	var lost int64 // given up on by the flow control
	for i := range int64(b.N) {
		// Flow control without a return path: wait while window packets
		// are in flight; those not delivered within 20 ms are lost.
		for stall := time.Now(); i-lost-received.Load() >= window; {
			if time.Since(stall) > 20*time.Millisecond {
				lost = i - received.Load()
				break
			}
			time.Sleep(20 * time.Microsecond)
		}
		if _, err := sender.WriteTo(payload, receiver.LocalAddr()); err != nil {
			b.Fatal(err)
		}
	}
	// Wait for stragglers: until all arrived or none for 100 ms.
	for last := received.Load(); last < int64(b.N); {
		time.Sleep(100 * time.Millisecond)
		now := received.Load()
		if now == last {
			break
		}
		last = now
	}
	b.StopTimer()

	got := received.Load()
	secs := time.Unix(0, lastAt.Load()).Sub(start).Seconds()
	if got == 0 || secs <= 0 {
		b.Fatalf("received %d of %d packets", got, b.N)
	}
	b.ReportMetric(float64(got)*size*8/secs/1e6, "Mbit/s")
	b.ReportMetric(float64(got)/secs, "pkts/s")
	b.ReportMetric(100*float64(int64(b.N)-got)/float64(b.N), "loss%")
	if relayed := s.Stats().BytesToPeers - bytesBefore; relayed < uint64(got)*size {
		b.Errorf("server counted %d bytes to peers, receiver got %d", relayed, got*size)
	}
}

package diag

import (
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/net/dns/dnsmessage"

	"github.com/reachdesk/reach/agent/inventory"
	inv "github.com/reachdesk/reach/proto/inventory"
)

func TestParseJournal(t *testing.T) {
	b, err := os.ReadFile("testdata/journal.json")
	if err != nil {
		t.Fatal(err)
	}
	got := parseJournal(b)
	want := []inv.LogEntry{
		{Time: time.UnixMicro(1763884800000000).UTC(), Priority: 3, Unit: "cups.service",
			Message: "Unable to open listen socket for address [v1.::1]:631 - Cannot assign requested address."},
		{Time: time.UnixMicro(1763884860000000).UTC(), Priority: 2, Unit: "kernel", Message: "ata1.00: failed command: READ FPDMA QUEUED"},
		{Time: time.UnixMicro(1763884920000000).UTC(), Priority: 3, Unit: "binary-app", Message: "bad\uFFFD  [31mstuff"},
		{Priority: 3, Unit: "odd", Message: "kept, with defaults"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d entries: %+v", len(got), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

// fakeDNS answers A queries for console.test with 127.0.0.1 and everything
// else with NXDOMAIN, on a loopback UDP port. silent makes it never answer.
func fakeDNS(t *testing.T, silent bool) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { pc.Close(); wg.Wait() })
	wg.Go(func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var q dnsmessage.Message
			if silent || q.Unpack(buf[:n]) != nil || len(q.Questions) != 1 {
				continue
			}
			resp := dnsmessage.Message{Header: dnsmessage.Header{ID: q.ID, Response: true, RCode: dnsmessage.RCodeNameError},
				Questions: q.Questions}
			if q.Questions[0].Name.String() == "console.test." {
				resp.RCode = dnsmessage.RCodeSuccess
				resp.Answers = []dnsmessage.Resource{{Header: dnsmessage.ResourceHeader{Name: q.Questions[0].Name,
					Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET, TTL: 60}, Body: &dnsmessage.AResource{A: [4]byte{127, 0, 0, 1}}}}
			}
			out, _ := resp.Pack()
			_, _ = pc.WriteTo(out, from)
		}
	})
	return pc.LocalAddr().String()
}

// redirect returns a Dial that sends DNS to dns and anything addressed to
// console.test to console, both on loopback.
func redirect(dns, console string) func(ctx context.Context, network, address string) (net.Conn, error) {
	var d net.Dialer
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		switch {
		case strings.HasSuffix(address, ":53"):
			address = dns
		case strings.HasPrefix(address, "console.test:"):
			address = console
		}
		return d.DialContext(ctx, network, address)
	}
}

// fakeSystem is a root with one DNS server and a loopback gateway, a
// journal, and a pending reboot; PATH holds only a journalctl that prints
// the journal fixture.
func fakeSystem(t *testing.T) fstest.MapFS {
	t.Helper()
	bin := t.TempDir()
	journal, err := filepath.Abs("testdata/journal.json")
	if err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\nexec cat " + journal + "\n"
	if err := os.WriteFile(filepath.Join(bin, "journalctl"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+":/usr/bin:/bin") // cat, for the script
	return fstest.MapFS{
		"etc/resolv.conf":                  {Data: []byte("nameserver 127.0.0.1\n")},
		"proc/net/route":                   {Data: []byte("Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\nlo\t00000000\t0100007F\t0003\t0\t0\t0\t00000000\t0\t0\t0\n")},
		"var/log/journal/m/system.journal": {Data: []byte("x")},
		"var/run/reboot-required":          {Data: nil},
		"var/run/reboot-required.pkgs":     {Data: []byte("linux-image-amd64\n")},
	}
}

// noLeaks checks, after the test and its cleanups, that no goroutine it
// started is left.
func noLeaks(t *testing.T) {
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt) })
}

func TestRunFakeSystem(t *testing.T) {
	noLeaks(t)
	console, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { console.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := console.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	})
	fsys := fakeSystem(t)
	r := New(Options{ConsoleURL: "https://console.test:8443/", FS: fsys, SampleInterval: 50 * time.Millisecond,
		Dial: redirect(fakeDNS(t, false), console.Addr().String())})
	rep := r.Run(context.Background())
	if err := rep.Validate(); err != nil {
		t.Fatal(err)
	}
	byName := map[string]inv.DiagResult{}
	var order []string
	for _, res := range rep.Results {
		byName[res.Check] = res
		order = append(order, res.Check)
		t.Logf("%-15s %-7s %s", res.Check, res.Status, res.Summary)
	}
	if got := strings.Join(order, ","); got != "disk_space,top_processes,failed_services,error_log,dns,gateway,console,time_sync,pending_reboot" {
		t.Fatalf("order %s", got)
	}
	expect := func(check string, status inv.DiagStatus, summary string) {
		t.Helper()
		res := byName[check]
		if res.Status != status || !strings.Contains(res.Summary, summary) {
			t.Errorf("%s = %s %q, want %s containing %q", check, res.Status, res.Summary, status, summary)
		}
	}
	expect(CheckFailedServices, inv.DiagUnknown, "systemd is not the init system")
	expect(CheckErrorLog, inv.DiagWarn, "4 errors in the last 24 hours; latest: odd: kept, with defaults")
	expect(CheckDNS, inv.DiagOK, "1 of 1 DNS servers answered for console.test: console.test is 127.0.0.1")
	expect(CheckConsole, inv.DiagOK, "console console.test:8443 reachable")
	expect(CheckPendingReboot, inv.DiagWarn, "reboot required: /var/run/reboot-required exists; requested by linux-image-amd64")
	if os.Geteuid() == 0 {
		expect(CheckGateway, inv.DiagOK, "1 of 1 gateways answered ping")
	}
	if top := byName[CheckTopProcesses]; top.Status == inv.DiagUnknown || len(top.TopCPU) == 0 || len(top.TopMemory) == 0 {
		t.Errorf("top processes: %+v", top)
	}
	if d := byName[CheckDiskSpace]; d.Status == inv.DiagUnknown || len(d.Disks) == 0 {
		t.Errorf("disk space: %+v", d)
	}
}

func TestRunUnreachable(t *testing.T) {
	noLeaks(t)
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := closed.Addr().String()
	closed.Close()
	fsys := fakeSystem(t)
	r := New(Options{ConsoleURL: "http://console.test", FS: fsys, Dial: redirect(fakeDNS(t, true), addr)})
	start := time.Now()
	dns, console := r.runOne(context.Background(), check{CheckDNS, r.dns}), r.runOne(context.Background(), check{CheckConsole, r.console})
	if dns.Status != inv.DiagFail || !strings.Contains(dns.Summary, "0 of 1 DNS servers answered") {
		t.Errorf("dns = %s %q", dns.Status, dns.Summary)
	}
	if console.Status != inv.DiagFail || !strings.Contains(console.Summary, "connection refused") {
		t.Errorf("console = %s %q", console.Status, console.Summary)
	}
	if d := time.Since(start); d > probeTimeout+time.Second {
		t.Errorf("took %v", d)
	}
	noURL := New(Options{FS: fsys})
	if res := noURL.runOne(context.Background(), check{CheckConsole, noURL.console}); res.Status != inv.DiagUnknown {
		t.Errorf("console without URL = %+v", res)
	}
}

func TestRunOneDegrades(t *testing.T) {
	r := New(Options{Timeout: 50 * time.Millisecond, Inventory: inventory.New(inventory.Options{})})
	block := make(chan struct{})
	defer close(block)
	for _, tt := range []struct {
		run  func(context.Context) inv.DiagResult
		want string
	}{
		{func(context.Context) inv.DiagResult { <-block; return inv.DiagResult{} }, "timed out after 50ms"},
		{func(context.Context) inv.DiagResult { panic("boom") }, "check failed: boom"},
		{func(context.Context) inv.DiagResult { return inv.DiagResult{Status: "meh", Summary: "x"} }, "result is invalid"},
	} {
		res := r.runOne(context.Background(), check{"x", tt.run})
		if res.Status != inv.DiagUnknown || !strings.HasPrefix(res.Summary, tt.want) || res.Check != "x" {
			t.Errorf("got %+v, want unknown %q", res, tt.want)
		}
	}
}

func TestVerdict(t *testing.T) {
	for _, tt := range []struct {
		ok, total int
		want      inv.DiagStatus
	}{{2, 2, inv.DiagOK}, {1, 2, inv.DiagWarn}, {0, 2, inv.DiagFail}} {
		if got := verdict(tt.ok, tt.total); got != tt.want {
			t.Errorf("verdict(%d, %d) = %s", tt.ok, tt.total, got)
		}
	}
	if !sameHost(&net.IPAddr{IP: net.ParseIP("127.0.0.1")}, netip.MustParseAddr("127.0.0.1")) {
		t.Error("sameHost")
	}
}

func TestWriteTable(t *testing.T) {
	rep := &inv.DiagReport{Header: inv.Header{Schema: inv.SchemaVersion, AgentVersion: "1.0.0", CollectedAt: time.Unix(0, 0)},
		Results: []inv.DiagResult{
			{Check: CheckDiskSpace, Status: inv.DiagFail, Summary: "fullest: / 97% used",
				Disks: []inv.DiskUsage{{Mount: "/", TotalBytes: 100 << 30, FreeBytes: 3 << 30, UsedPercent: 97}}},
			{Check: CheckConsole, Status: inv.DiagOK, Summary: "console reachable",
				Probes: []inv.Probe{{Target: "console x:443", OK: true, LatencyMS: 3, Detail: "connected"}}},
		}}
	var b strings.Builder
	if err := WriteTable(&b, rep); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(strings.Fields(b.String()), " ")
	for _, want := range []string{"FAIL disk_space fullest: / 97% used / 97.0% used, 3.0 GiB free of 100.0 GiB",
		"OK console console reachable console x:443: ok in 3 ms, connected"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, b.String())
		}
	}
}

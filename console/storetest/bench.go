package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/reachdesk/reach/console"
)

// Benchmark sizes: the help desk of the targets.
const (
	benchTickets   = 100_000
	benchDevices   = 10_000
	benchSoftware  = 120 // packages per device
	benchTechs     = 50
	benchTeams     = 10
	ingestDevices  = 500
	ingestWorkers  = 4
	importChunk    = 10_000
	seedingWorkers = 8
)

// Bench runs the benchmarks: inventory ingestion throughput, and ticket
// queue and fleet search latency on a store seeded with benchTickets
// tickets and benchDevices devices. Latency benchmarks report p50-ms and
// p99-ms over their iterations; run them with a fixed count, for example
// -benchtime=300x.
func Bench(b *testing.B, h Harness) {
	// Fixtures are built once, by the first benchmark that needs them, and
	// live until Bench returns.
	parent := b
	var ingestOnce sync.Once
	var ingest *ingestFixture
	fixture := func(b *testing.B) *ingestFixture {
		ingestOnce.Do(func() { ingest = newIngestFixture(b, parent, h) })
		if ingest == nil {
			b.Fatal("seeding failed")
		}
		return ingest
	}
	b.Run("IngestInventory", func(b *testing.B) { benchIngest(b, fixture(b), false) })
	b.Run("IngestInventoryParallel", func(b *testing.B) { benchIngest(b, fixture(b), true) })

	var once sync.Once
	var w *benchWorld
	world := func(b *testing.B) *benchWorld {
		once.Do(func() { w = seedWorld(b, parent, h) })
		if w == nil {
			b.Fatal("seeding failed")
		}
		return w
	}
	for _, q := range ticketQueries {
		b.Run("TicketQueue/"+q.name, func(b *testing.B) {
			w := world(b)
			latency(b, func(i int) error { return q.run(w, i) })
		})
	}
	for _, q := range fleetQueries {
		b.Run("FleetSearch/"+q.name, func(b *testing.B) {
			w := world(b)
			latency(b, func(i int) error { return q.run(w, i) })
		})
	}
}

// latency runs op b.N times and reports the median and 99th percentile.
func latency(b *testing.B, op func(i int) error) {
	b.Helper()
	d := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if err := op(i); err != nil {
			b.Fatal(err)
		}
		d = append(d, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(d)
	pct := func(p float64) float64 {
		return float64(d[min(len(d)-1, int(p*float64(len(d))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// catalog is the software a simulated fleet installs: a few packages on
// every device with versions spread around (Chrome 100 to 125), and a long
// tail that each device draws from.
type catalog struct {
	common []string
	tail   []string
}

var fleetCatalog = func() catalog {
	c := catalog{common: []string{"Google Chrome", "Mozilla Firefox", "7-Zip", "Microsoft Edge", "Zoom", "Adobe Acrobat Reader",
		"Microsoft Teams", "VLC media player", "Notepad++", "Git"}}
	vendors := []string{"Contoso", "Fabrikam", "Northwind", "Tailspin", "Wingtip", "Litware", "Adatum", "Proseware"}
	kinds := []string{"Agent", "Driver", "Runtime", "Toolkit", "Client", "Updater", "SDK", "Helper", "Service", "Viewer"}
	for i := range 1000 {
		c.tail = append(c.tail, fmt.Sprintf("%s %s %d", vendors[i%len(vendors)], kinds[(i/len(vendors))%len(kinds)], i))
	}
	return c
}()

// fleetReport builds one device's report: benchSoftware packages, an OS,
// disks, and the raw document (about 10 KB).
func fleetReport(deviceID int64, rng *rand.Rand) *console.InventoryReport {
	sw := make([]console.Software, 0, benchSoftware)
	for i, name := range fleetCatalog.common {
		v := fmt.Sprintf("%d.%d.%d", 100+rng.IntN(26), rng.IntN(10), rng.IntN(5000))
		if i > 0 {
			v = fmt.Sprintf("%d.%d", 1+rng.IntN(30), rng.IntN(20))
		}
		sw = append(sw, console.Software{Name: name, Version: v, Publisher: "Vendor"})
	}
	for _, i := range rng.Perm(len(fleetCatalog.tail))[:benchSoftware-len(sw)] {
		sw = append(sw, console.Software{Name: fleetCatalog.tail[i], Version: fmt.Sprintf("%d.%d.%d", rng.IntN(10), rng.IntN(10), rng.IntN(100))})
	}
	os := []console.OSInfo{{Name: "Windows 11 Pro", Version: "10.0.22631"}, {Name: "Windows 10 Pro", Version: "10.0.19045"},
		{Name: "Ubuntu", Version: "22.04"}, {Name: "macOS", Version: "14.4"}}[rng.IntN(4)]
	total := uint64(256+rng.IntN(768)) << 30
	r := report(deviceID, os, sw, 0, "Intel Core i5")
	r.Disks = []console.Disk{{Mount: "/", TotalBytes: total, UsedBytes: total / 100 * uint64(5+rng.IntN(95))}}
	return r
}

// ingestFixture is a store whose ingestDevices devices have a baseline
// inventory, and the reports that baseline came from.
type ingestFixture struct {
	s       Store
	reports []*console.InventoryReport
	next    atomic.Int64
}

func newIngestFixture(b, owner *testing.B, h Harness) *ingestFixture {
	ctx := context.Background()
	s, err := h.Open(ctx, h.NewDB(owner), time.Now)
	if err != nil {
		b.Fatal(err)
	}
	owner.Cleanup(func() { s.Close() })
	g := &console.DeviceGroup{Name: "bench"}
	if err := s.CreateDeviceGroup(ctx, g); err != nil {
		b.Fatal(err)
	}
	f := &ingestFixture{s: s}
	rng := rand.New(rand.NewPCG(7, 7))
	for _, id := range enrollFleet(b, s, g, ingestDevices) {
		r := fleetReport(id, rng)
		if _, err := s.IngestInventory(ctx, r); err != nil {
			b.Fatal(err)
		}
		f.reports = append(f.reports, r)
	}
	return f
}

// ingest sends the next report: disk usage always changes, and one report
// in ten also updates a package.
func (f *ingestFixture) ingest() error {
	n := f.next.Add(1)
	base := f.reports[int(n)%len(f.reports)]
	r := *base
	r.Disks = []console.Disk{{Mount: "/", TotalBytes: 100, UsedBytes: uint64(n % 100)}}
	if n%10 == 0 {
		r.Software = slices.Clone(base.Software)
		r.Software[0].Version = fmt.Sprintf("126.0.%d", n)
		swJSON, _ := json.Marshal(r.Software)
		r.Sections = map[string]json.RawMessage{"software": swJSON, "os": base.Sections["os"], "hardware": base.Sections["hardware"]}
	}
	_, err := f.s.IngestInventory(context.Background(), &r)
	return err
}

// benchIngest measures IngestInventory throughput, from one goroutine or
// from ingestWorkers per CPU.
func benchIngest(b *testing.B, f *ingestFixture, parallel bool) {
	b.ResetTimer()
	if parallel {
		b.SetParallelism(ingestWorkers)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := f.ingest(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	} else {
		for i := 0; i < b.N; i++ {
			if err := f.ingest(); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reports/s")
}

// enrollFleet enrolls n devices into g and returns their IDs.
func enrollFleet(b *testing.B, s Store, g *console.DeviceGroup, n int) []int64 {
	ctx := context.Background()
	secret := hash(fmt.Sprintf("bench token %d", g.ID))
	tok := &console.EnrollmentToken{GroupID: g.ID, Name: "bench", SecretHash: secret,
		ExpiresAt: time.Now().Add(24 * time.Hour), MaxUses: n}
	if err := s.CreateEnrollmentToken(ctx, tok); err != nil {
		b.Fatal(err)
	}
	ids := make([]int64, n)
	err := parallel(n, func(i int) error {
		d := &console.Device{Name: fmt.Sprintf("ws-%05d", i), Hostname: fmt.Sprintf("ws-%05d.corp.example", i),
			PublicKey: key(fmt.Sprintf("bench %d device %d", g.ID, i))}
		if err := s.Enroll(ctx, secret, d); err != nil {
			return err
		}
		ids[i] = d.ID
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return ids
}

// parallel runs fn(0..n-1) on seedingWorkers goroutines and returns the
// first error.
func parallel(n int, fn func(i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, seedingWorkers)
	for range seedingWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// benchWorld is a seeded store and what queries against it need.
type benchWorld struct {
	s      Store
	now    time.Time
	techs  []int64
	teams  []int64
	second string // cursor of the second page of the active queue by due
}

// searchWords appear in ticket titles with different frequencies.
var searchWords = []string{"printer", "vpn", "outlook", "laptop", "password", "monitor", "wifi", "license"}

// seedWorld fills a store with benchTickets tickets and benchDevices
// devices with inventory, through the stores' bulk paths (ImportTickets)
// and the real ingestion path on several goroutines. The store lives as
// long as owner.
func seedWorld(b, owner *testing.B, h Harness) *benchWorld {
	start := time.Now()
	ctx := context.Background()
	w := &benchWorld{now: epoch}
	s, err := h.Open(ctx, h.NewDB(owner), func() time.Time { return w.now })
	if err != nil {
		b.Fatal(err)
	}
	owner.Cleanup(func() { s.Close() })
	w.s = s
	for i := range benchTechs {
		u := &console.User{Email: fmt.Sprintf("tech%d@example.com", i), Name: fmt.Sprintf("Tech %d", i),
			Role: console.RoleTechnician, Level: console.Level(1 + i%3)}
		if err := s.CreateUser(ctx, u); err != nil {
			b.Fatal(err)
		}
		w.techs = append(w.techs, u.ID)
	}
	for i := range benchTeams {
		t := &console.Team{Name: fmt.Sprintf("Team %d", i)}
		if err := s.CreateTeam(ctx, t); err != nil {
			b.Fatal(err)
		}
		w.teams = append(w.teams, t.ID)
	}

	rng := rand.New(rand.NewPCG(42, 42))
	for done := 0; done < benchTickets; done += importChunk {
		ts := make([]*console.Ticket, 0, importChunk)
		for range min(importChunk, benchTickets-done) {
			ts = append(ts, benchTicket(w, rng))
		}
		if err := s.ImportTickets(ctx, ts); err != nil {
			b.Fatal(err)
		}
	}
	ticketsDone := time.Since(start)

	g := &console.DeviceGroup{Name: "Fleet"}
	if err := s.CreateDeviceGroup(ctx, g); err != nil {
		b.Fatal(err)
	}
	ids := enrollFleet(b, s, g, benchDevices)
	reports := make([]*console.InventoryReport, len(ids))
	for i, id := range ids {
		reports[i] = fleetReport(id, rng)
		reports[i].ReceivedAt = w.now.Add(-time.Duration(rng.Int64N(int64(30 * 24 * time.Hour))))
	}
	if err := parallel(len(ids), func(i int) error {
		_, err := s.IngestInventory(ctx, reports[i])
		return err
	}); err != nil {
		b.Fatal(err)
	}
	if err := s.Analyze(ctx); err != nil {
		b.Fatal(err)
	}
	page, err := s.FindTickets(ctx, activeByDue(w))
	if err != nil {
		b.Fatal(err)
	}
	w.second = page.Next
	b.Logf("seeded %d tickets in %v, %d devices with %d packages each in %v", benchTickets, ticketsDone.Round(time.Millisecond),
		benchDevices, benchSoftware, (time.Since(start) - ticketsDone).Round(time.Millisecond))
	return w
}

// benchTicket returns a ticket of a year-old help desk: most are closed,
// a fifth are open with deadlines around now.
func benchTicket(w *benchWorld, rng *rand.Rand) *console.Ticket {
	created := w.now.Add(-time.Duration(rng.Int64N(int64(365 * 24 * time.Hour))))
	if rng.IntN(5) == 0 {
		created = w.now.Add(-time.Duration(rng.Int64N(int64(7 * 24 * time.Hour))))
	}
	word := searchWords[rng.IntN(len(searchWords))]
	t := &console.Ticket{
		Title:       fmt.Sprintf("%s issue #%d on floor %d", word, rng.IntN(1000), rng.IntN(10)),
		Description: fmt.Sprintf("User reports that the %s stopped working after the update; tried restarting, no luck.", word),
		Requester:   console.Requester{Name: fmt.Sprintf("Employee %d", rng.IntN(5000)), Email: fmt.Sprintf("e%d@corp.example", rng.IntN(5000))},
		Channel:     []console.Channel{console.ChannelPhone, console.ChannelEmail, console.ChannelPortal, console.ChannelChat}[rng.IntN(4)],
		Category:    []string{"hardware", "software", "network", "access"}[rng.IntN(4)],
		Priority:    console.Priority([]int{1, 2, 2, 3, 3, 3, 3, 4, 4, 4}[rng.IntN(10)]),
		Level:       console.Level(1 + rng.IntN(3)),
		CreatedAt:   created,
	}
	if rng.IntN(10) > 0 {
		t.AssigneeID = w.techs[rng.IntN(len(w.techs))]
	}
	t.TeamID = w.teams[rng.IntN(len(w.teams))]
	targets := map[console.Priority][2]time.Duration{1: {time.Hour, 4 * time.Hour}, 2: {4 * time.Hour, 24 * time.Hour},
		3: {8 * time.Hour, 72 * time.Hour}, 4: {24 * time.Hour, 120 * time.Hour}}[t.Priority]
	t.FirstResponseDue, t.ResolutionDue = created.Add(targets[0]), created.Add(targets[1])
	if rng.IntN(10) < 7 {
		t.FirstRespondedAt = created.Add(time.Duration(rng.Int64N(int64(targets[0] * 2))))
	}
	switch r := rng.IntN(100); {
	case r < 75:
		t.Status = []console.Status{console.StatusResolved, console.StatusClosed}[rng.IntN(2)]
		t.ResolvedAt = created.Add(time.Duration(rng.Int64N(int64(targets[1] * 2))))
		if t.FirstRespondedAt.IsZero() || t.FirstRespondedAt.After(t.ResolvedAt) {
			t.FirstRespondedAt = t.ResolvedAt
		}
	case r < 85:
		t.Status = console.StatusOpen
	case r < 90:
		t.Status = console.StatusNew
	case r < 95:
		t.Status, t.PausedAt = console.StatusPending, w.now.Add(-time.Duration(rng.Int64N(int64(48*time.Hour))))
	default:
		t.Status, t.ReopenCount = console.StatusReopened, 1
	}
	return t
}

var activeStatuses = []console.Status{console.StatusNew, console.StatusOpen, console.StatusReopened}

func activeByDue(w *benchWorld) console.TicketFilter {
	return console.TicketFilter{Statuses: activeStatuses, Sort: console.SortDue, Now: w.now}
}

// query is one benchmarked read; i varies its parameters.
type query struct {
	name string
	run  func(w *benchWorld, i int) error
}

func findTickets(w *benchWorld, f console.TicketFilter) error {
	f.Now = w.now
	_, err := w.s.FindTickets(context.Background(), f)
	return err
}

var ticketQueries = []query{
	{"ActiveByDue", func(w *benchWorld, i int) error { return findTickets(w, activeByDue(w)) }},
	{"ActiveByDuePage2", func(w *benchWorld, i int) error {
		f := activeByDue(w)
		f.Cursor = w.second
		return findTickets(w, f)
	}},
	{"TeamActiveNewest", func(w *benchWorld, i int) error {
		return findTickets(w, console.TicketFilter{TeamID: w.teams[i%len(w.teams)], Statuses: activeStatuses})
	}},
	{"AssigneeByUpdated", func(w *benchWorld, i int) error {
		return findTickets(w, console.TicketFilter{AssigneeID: w.techs[i%len(w.techs)],
			Statuses: append(activeStatuses, console.StatusPending), Sort: console.SortUpdated})
	}},
	{"BreachedP1P2", func(w *benchWorld, i int) error {
		return findTickets(w, console.TicketFilter{SLA: console.SLABreached, Priorities: []console.Priority{console.P1, console.P2},
			Sort: console.SortDue})
	}},
	{"Unassigned", func(w *benchWorld, i int) error {
		return findTickets(w, console.TicketFilter{Unassigned: true, Statuses: activeStatuses})
	}},
	{"TextSearch", func(w *benchWorld, i int) error {
		return findTickets(w, console.TicketFilter{Text: searchWords[i%len(searchWords)]})
	}},
	{"TextSearchActive", func(w *benchWorld, i int) error {
		return findTickets(w, console.TicketFilter{Text: searchWords[i%len(searchWords)] + " floor", Statuses: activeStatuses})
	}},
	{"CountActive", func(w *benchWorld, i int) error {
		_, err := w.s.CountTickets(context.Background(), console.TicketFilter{Statuses: activeStatuses, Now: w.now})
		return err
	}},
}

func findDevices(w *benchWorld, f console.DeviceFilter) error {
	_, err := w.s.FindDevices(context.Background(), f)
	return err
}

func mustQuery(s string) *console.SoftwareQuery {
	q, err := console.ParseSoftwareQuery(s)
	if err != nil {
		panic(err)
	}
	return &q
}

var fleetQueries = []query{
	{"ChromeBelow120", func(w *benchWorld, i int) error {
		return findDevices(w, console.DeviceFilter{Software: mustQuery("Chrome < 120")})
	}},
	{"ChromeBelow120Count", func(w *benchWorld, i int) error {
		_, err := w.s.CountDevices(context.Background(), console.DeviceFilter{Software: mustQuery("Chrome < 120")})
		return err
	}},
	{"RareVersion", func(w *benchWorld, i int) error {
		return findDevices(w, console.DeviceFilter{Software: mustQuery(fmt.Sprintf("Google Chrome >= 125.%d", i%10))})
	}},
	{"TailPackage", func(w *benchWorld, i int) error {
		return findDevices(w, console.DeviceFilter{Software: mustQuery(fleetCatalog.tail[i%len(fleetCatalog.tail)])})
	}},
	{"DiskAbove90", func(w *benchWorld, i int) error {
		return findDevices(w, console.DeviceFilter{DiskUsedAbove: 90})
	}},
	{"WindowsAnd7ZipBelow20", func(w *benchWorld, i int) error {
		return findDevices(w, console.DeviceFilter{OS: "Windows", Software: mustQuery("7-Zip < 20")})
	}},
	{"NotSeen7Days", func(w *benchWorld, i int) error {
		return findDevices(w, console.DeviceFilter{SeenBefore: w.now.Add(-7 * 24 * time.Hour)})
	}},
	{"NamePrefix", func(w *benchWorld, i int) error {
		return findDevices(w, console.DeviceFilter{Name: fmt.Sprintf("ws-0%d", i%10)})
	}},
}

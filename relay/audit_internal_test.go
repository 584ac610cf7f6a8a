package relay

import (
	"testing"

	"github.com/reachdesk/reach/proto"
)

func TestAuditLogDropsOldestAndSaysSo(t *testing.T) {
	a := newAuditLog()
	for range auditCapacity + 5 {
		a.record(proto.AuditEvent{SID: "s", Type: proto.AuditEnded})
	}
	got, lost := a.after(0, 3)
	if !lost || len(got) != 3 || got[0].Seq != 6 || got[2].Seq != 8 {
		t.Fatalf("after(0) = %d events from %d, lost %v; want 3 from seq 6, lost", len(got), got[0].Seq, lost)
	}
	got, lost = a.after(auditCapacity+3, 10)
	if lost || len(got) != 2 || got[1].Seq != auditCapacity+5 {
		t.Fatalf("after(cap+3) = %+v lost %v", got, lost)
	}
	if got, lost := a.after(auditCapacity+5, 10); len(got) != 0 || lost {
		t.Fatalf("after the newest = %+v lost %v", got, lost)
	}
}

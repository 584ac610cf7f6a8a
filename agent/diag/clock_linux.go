package diag

import (
	"time"

	"golang.org/x/sys/unix"
)

// kernelClock reads the kernel's clock discipline state with adjtimex(2)
// (modes 0: read only). The kernel considers the clock synchronized when an
// NTP daemon has cleared STA_UNSYNC and the state is not TIME_ERROR.
func kernelClock() (synced bool, offset, maxError time.Duration, err error) {
	var tx unix.Timex
	state, err := unix.Adjtimex(&tx)
	if err != nil {
		return false, 0, 0, err
	}
	offset = time.Duration(tx.Offset) * time.Microsecond
	if tx.Status&unix.STA_NANO != 0 {
		offset = time.Duration(tx.Offset)
	}
	return state != unix.TIME_ERROR && tx.Status&unix.STA_UNSYNC == 0, offset,
		time.Duration(tx.Maxerror) * time.Microsecond, nil
}

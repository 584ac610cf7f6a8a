package relayclient

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// setUserTimeout makes the kernel drop the connection when data it sent
// stays unacknowledged for ms milliseconds: with heartbeats flowing, that
// detects a dead relay (or a dead path) without answers from the relay.
func setUserTimeout(c syscall.RawConn, ms int) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT, ms)
	})
	if err != nil {
		return err
	}
	return serr
}

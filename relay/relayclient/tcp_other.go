//go:build !linux

package relayclient

import "syscall"

// setUserTimeout is Linux-only; elsewhere dead relays are found by TCP
// keepalive and write errors.
func setUserTimeout(syscall.RawConn, int) error { return nil }

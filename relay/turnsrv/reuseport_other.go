//go:build !linux

package turnsrv

import "syscall"

// reusePortControl is nil where SO_REUSEPORT is not used: the BSDs give it
// different semantics (no load balancing) and Windows lacks it.
var reusePortControl func(network, address string, rc syscall.RawConn) error

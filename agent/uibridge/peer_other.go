//go:build !linux

package uibridge

import (
	"errors"
	"net"
)

// peerCred is only implemented on Linux: elsewhere nobody may attach.
func peerCred(net.Conn) (Peer, error) {
	return Peer{UID: ^uint32(0)}, errors.New("peer credentials are only checked on Linux")
}

// fileOwner is only implemented on Linux.
func fileOwner(string) (uint32, bool) { return 0, false }

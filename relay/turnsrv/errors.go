package turnsrv

import "errors"

var (
	// errMalformedUsername means a TURN username is not "<unix-expiry>:<id>".
	errMalformedUsername = errors.New("turnsrv: malformed username")
	// errExpiredUsername means the expiry in a TURN username has passed.
	errExpiredUsername = errors.New("turnsrv: credentials expired")
	// errTCPRelay refuses RFC 6062 TCP allocations: WebRTC relays over UDP
	// only, and every extra relay kind is more surface for abuse.
	errTCPRelay = errors.New("turnsrv: TCP relay allocations are not offered")
	// errAddressFamily refuses an allocation whose requested family
	// (IPv4/IPv6) differs from the family of Options.RelayIP.
	errAddressFamily = errors.New("turnsrv: requested address family differs from the relay address")
	// errPortRangeFull means every port of Options.RelayPortMin..Max is in use.
	errPortRangeFull = errors.New("turnsrv: no free port in the relay port range")
)

package proto

// Version is the envelope format version carried in every message's "v" field.
// A peer that sends another version is refused with [CodeUpgradeRequired].
const Version = 1

// Subprotocol is the WebSocket subprotocol that carries Version 1 envelopes.
const Subprotocol = "reach.v1"

// Capability numbers the features a peer speaks within Version 1. Peers send
// theirs in hello; the relay refuses peers below MinCapability with
// [CodeUpgradeRequired] and otherwise uses the lower of the two numbers.
//
// Changelog:
//   - 1 (2026-11-23): hello/welcome, session codes, consent, unattended
//     connect, SDP/ICE forwarding, presence, session resume after a relay
//     restart.
const Capability = 1

// MinCapability is the oldest peer capability the relay still serves.
const MinCapability = 1

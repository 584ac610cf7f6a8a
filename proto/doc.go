// Package proto defines Reach's wire protocol: the versioned JSON envelope that
// technicians, agents and the relay exchange over the WebSocket subprotocol
// "reach.v1", the body of every signaling message, the limits that bound them,
// and the Ed25519-signed token claims the console issues.
//
// Every message is an [Envelope]:
//
//	{"v":1,"type":"code.redeem","id":"7","sid":"","body":{"code":"123456789"}}
//
// [Decode] checks the size, the envelope, looks the type up in a registry,
// decodes the body into its Go type and validates every field against explicit
// limits. Anything malformed yields an [*Error] with a [Code] that can be sent
// back to the peer as is; decoders never panic (they are fuzzed).
//
// Messages are framed by WebSocket, so no decoder here reads a stream.
package proto

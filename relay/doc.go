// Package relay brokers Reach sessions. Technicians and agents connect over
// WebSocket (subprotocol reach.v1) and authenticate with tokens the console
// signed; the relay verifies them with the console's public keys and keeps
// no user database.
//
// A technician asks for a session code (attended support) or connects to an
// online device (unattended, when the token allows it). The relay pairs the
// two parties, carries the consent exchange, and then forwards offer, answer
// and ICE candidates between exactly those two connections, byte for byte:
// nobody else can inject into a session, and the relay changes nothing it
// forwards. Media flows peer to peer (or through TURN), so a session survives
// a relay restart; both sides resume its signaling when they reconnect.
//
// The Server is an http.Handler factory: it never listens itself.
package relay

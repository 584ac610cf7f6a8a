package proto

import "time"

// Size limits. A message over MaxMessageSize is refused before it is parsed;
// each field has its own bound, checked by the body's Validate.
const (
	MaxMessageSize = 64 << 10 // whole envelope, bytes
	MaxTypeLen     = 32
	MaxIDLen       = 64 // envelope id, session id, device id, user id
	MaxTokenLen    = 4096
	MaxSDPLen      = 48 << 10
	MaxCandidate   = 1024
	MaxSignature   = MaxTokenLen // an agent's fingerprint signature, or a technician's grant token
	MaxFingerprint = 128         // "sha-256 " and 32 hex pairs
	MaxNameLen     = 128         // people, organisations, devices
	MaxTitleLen    = 256         // ticket title
	MaxReasonLen   = 512         // end reasons, error messages
	MaxClientLen   = 128         // client software description
	MaxListLen     = 1000
	MaxICEServers  = 8
	MaxURLLen      = 512
	MaxResume      = 8 // sessions one connection may resume
	CodeDigits     = 9
)

// Timing defaults shared by relay and clients.
const (
	DefaultHeartbeat   = 25 * time.Second // client sends ping at least this often
	DefaultCodeTTL     = 10 * time.Minute
	MaxCodeTTL         = 60 * time.Minute
	DefaultConsentWait = 30 * time.Second // consent prompt times out to deny
)

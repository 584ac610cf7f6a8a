// Reach's browser-side session client: the technician's half of a remote
// session (signaling, WebRTC video, input, clipboard, chat and the DTLS
// fingerprint binding). No framework, no network access beyond the relay
// and the peer; bundled into dist/reach-client.js as an ES module.

export { ReachSession } from "./session.js";
export type { ReachEvents, ReachSessionOptions, ReceiverStats, State } from "./session.js";
export { RelayError } from "./signaling.js";
export { INTERCEPTED, sdpFingerprint, verifyAnswer } from "./binding.js";
export { contentBox, normalize } from "./input.js";
export type * from "./proto.js";

// Wire types of the reach.v1 protocol, mirrored by hand from the Go source
// of truth: proto/envelope.go, proto/messages.go (signaling),
// proto/datachannel.go (data channels) and proto/binding.go (DTLS
// fingerprint binding). Keep field names and limits in step with those files.

/** Envelope version (proto.Version). */
export const VERSION = 1;
/** Capability this client speaks (proto.Capability). */
export const CAPABILITY = 1;
/** WebSocket subprotocol (proto.Subprotocol). */
export const SUBPROTOCOL = "reach.v1";

/** Envelope is the wire form of every signaling message (proto.Envelope). */
export interface Envelope<B = unknown> {
  v: number;
  type: string;
  id?: string;
  sid?: string;
  body?: B;
}

/** Permission names (proto.Permission). */
export type Permission = "view" | "control" | "clipboard" | "files" | "unattended";

/** Welcome accepts a hello (proto.Welcome). */
export interface Welcome {
  capability: number;
  heartbeat: number; // seconds between id-less pings
  subject: string;
}

/** ErrorBody reports a failed request (proto.ErrorBody). */
export interface ErrorBody {
  code: string;
  message: string;
}

/** CodeCreated carries a session code (proto.CodeCreated); the envelope's sid is the session. */
export interface CodeCreated {
  code: string;
  expires: string;
}

/** DeviceRef names a device (proto.DeviceRef). */
export interface DeviceRef {
  id: string;
  name?: string;
}

/** ConsentDecision is the end user's answer (proto.ConsentDecision). */
export interface ConsentDecision {
  decision: "deny" | "view" | "control";
  permissions?: Permission[];
  reason?: string;
}

/** ICEServer is a STUN/TURN server with short-lived credentials (proto.ICEServer). */
export interface ICEServer {
  urls: string[];
  username?: string;
  credential?: string;
}

/** SessionStart begins WebRTC (proto.SessionStart). */
export interface SessionStart {
  permissions: Permission[];
  ice_servers?: ICEServer[];
}

/** SDP is an offer or answer body (proto.SDP). */
export interface SDPBody {
  sdp: string;
  signature?: string;
}

/** Candidate is a trickled ICE candidate (proto.Candidate). */
export interface CandidateBody {
  candidate: string;
  sdpMid?: string;
  sdpMLineIndex?: number;
  usernameFragment?: string;
}

/** SessionEnd ends a session (proto.SessionEnd). */
export interface SessionEndBody {
  reason?: string;
}

// Data channels (proto/datachannel.go). The technician's side creates them.
export const CHANNEL_INPUT = "input";
export const CHANNEL_CONTROL = "control";
export const CHANNEL_CLIPBOARD = "clipboard";
export const CHANNEL_CHAT = "chat";

/** Data-channel limits (proto/datachannel.go). */
export const MAX_CLIPBOARD = 64 << 10;
export const MAX_CHAT = 4 << 10;
export const MAX_TYPED_TEXT = 1024;
export const MAX_COMBO_KEYS = 6;
export const MAX_WHEEL_DELTA = 10000;

/** Mouse buttons (proto.Button.Button). */
export type MouseButton = "left" | "middle" | "right" | "back" | "forward";

/** Modifiers held during a key event (proto.Modifiers). */
export interface Modifiers {
  ctrl?: boolean;
  alt?: boolean;
  shift?: boolean;
  meta?: boolean;
}

/** Monitor describes one display of the agent's machine (proto.Monitor). */
export interface Monitor {
  index: number;
  name?: string;
  x: number;
  y: number;
  width: number;
  height: number;
  primary?: boolean;
}

/** Monitors lists the displays and which one is shown, -1 for all (proto.Monitors). */
export interface Monitors {
  monitors: Monitor[];
  shown: number;
}

/** Permissions says what the end user allows now (proto.Permissions). */
export interface PermissionsMsg {
  permissions: Permission[];
  reason?: string;
}

/** Stats are the agent's sender statistics (proto.Stats). */
export interface AgentStats {
  fps: number;
  kbps: number;
  encode_ms: number;
  width: number;
  height: number;
  codec?: string;
}

/** Quality is the technician's preference; zero caps mean none (proto.Quality). */
export interface Quality {
  mode: "auto" | "speed" | "quality";
  max_kbps?: number;
  max_fps?: number;
  codec?: string;
  show_cursor?: boolean;
}

/** Chat is one chat line (proto.Chat). */
export interface ChatLine {
  from: "technician" | "user";
  text: string;
}

/** A data-channel message as sent by the technician: {"t": type, ...fields}. */
export type OutgoingDC =
  | { t: "pointer"; x: number; y: number }
  | { t: "button"; button: MouseButton; down: boolean; x: number; y: number }
  | { t: "wheel"; dx: number; dy: number }
  | { t: "key"; code: string; down: boolean; mods: Modifiers }
  | { t: "text"; text: string }
  | { t: "combo"; keys: string[] }
  | { t: "monitor"; index: number }
  | ({ t: "quality" } & Quality)
  | { t: "keyframe" }
  | { t: "view_only"; on: boolean }
  | { t: "clipboard"; text: string }
  | ({ t: "chat" } & ChatLine);

/** dcChannel says which channel carries each outgoing type (proto.ChannelOf). */
export function dcChannel(t: OutgoingDC["t"]): string {
  switch (t) {
    case "pointer":
    case "button":
    case "wheel":
    case "key":
    case "text":
    case "combo":
      return CHANNEL_INPUT;
    case "clipboard":
      return CHANNEL_CLIPBOARD;
    case "chat":
      return CHANNEL_CHAT;
    default:
      return CHANNEL_CONTROL;
  }
}

/** KEY_CODE matches a KeyboardEvent.code the agent accepts (proto checkKeyCode). */
export const KEY_CODE = /^[A-Za-z0-9]{1,32}$/;

/** utf8Length returns the length of s in UTF-8 bytes, the unit of proto's limits. */
export function utf8Length(s: string): number {
  return new TextEncoder().encode(s).length;
}

// ReachSession: the technician's side of one remote-support session in the
// browser — signaling with the relay, the WebRTC peer connection that
// receives the screen and carries input on data channels, and the DTLS
// fingerprint binding of docs/protocol.md.

import { INTERCEPTED, certificateFingerprint, sdpFingerprint, verifyAnswer } from "./binding.js";
import { InputCapture } from "./input.js";
import {
  CHANNEL_CHAT,
  CHANNEL_CLIPBOARD,
  CHANNEL_CONTROL,
  CHANNEL_INPUT,
  KEY_CODE,
  MAX_CHAT,
  MAX_CLIPBOARD,
  MAX_COMBO_KEYS,
  MAX_TYPED_TEXT,
  dcChannel,
  utf8Length,
} from "./proto.js";
import type {
  AgentStats,
  CandidateBody,
  ChatLine,
  CodeCreated,
  ConsentDecision,
  DeviceRef,
  Envelope,
  ErrorBody,
  Modifiers,
  Monitors,
  MouseButton,
  OutgoingDC,
  Permission,
  PermissionsMsg,
  Quality,
  SDPBody,
  SessionEndBody,
  SessionStart,
} from "./proto.js";
import { Signaling } from "./signaling.js";

/** How long a closed control channel waits for the agent's session.end and its reason. */
const ENDED_GRACE_MS = 1500;

/** Options configure a ReachSession. */
export interface ReachSessionOptions {
  /** relayURL is the technician endpoint, e.g. "wss://relay.example/v1/technician". */
  relayURL: string;
  /** token is a console-signed technician token; it travels in hello only. */
  token: string;
  /**
   * getGrant asks the console for a session grant binding fingerprint (the
   * browser's DTLS certificate, "sha-256 AB:CD:…") to this session; the
   * grant travels in the offer's signature and the agent checks it.
   */
  getGrant(fingerprint: string, ctx: { sid: string; deviceId: string }): Promise<string>;
  /** getDeviceKey returns the device's raw 32-byte Ed25519 public key, from the console. */
  getDeviceKey(deviceId: string): Promise<Uint8Array<ArrayBuffer>>;
  /** client names the software in hello, for the relay's logs; empty means "reach-web". */
  client?: string;
  /** preferCodec is a video codec ("VP8", "VP9", "H264", "AV1") to ask for first; empty keeps the browser's order. */
  preferCodec?: string;
}

/** State is where a session is in its life. */
export type State = "idle" | "waiting" | "consent" | "negotiating" | "active" | "ended";

/** ReceiverStats are the browser's own numbers for the incoming video. */
export interface ReceiverStats {
  /** codec is the negotiated MIME type, e.g. "video/VP8". */
  codec: string;
  width: number;
  height: number;
  framesDecoded: number;
  framesDropped: number;
  /** fps is frames decoded per second since the previous call. */
  fps: number;
  /** kbps is received video bitrate since the previous call. */
  kbps: number;
  /** jitterBufferMs is the average time frames spent in the jitter buffer. */
  jitterBufferMs: number;
  /** bytesReceived is the total video payload received. */
  bytesReceived: number;
  /** keyframes is the number of keyframes decoded since the previous call. */
  keyframes: number;
  /** plis is the number of picture loss indications (keyframe requests) sent since the previous call. */
  plis: number;
  /** nacks is the number of retransmission requests sent since the previous call. */
  nacks: number;
}

/** Events a ReachSession emits, with their details. */
export interface ReachEvents {
  /** code: a session code to read out to the end user (attended). */
  code: { code: string; expires: Date; sid: string };
  /** peerJoined: a device redeemed the code, or the unattended device was reached. */
  peerJoined: DeviceRef;
  /** consent: the end user's (or device policy's) answer. */
  consent: ConsentDecision;
  /** started: media flows and the device's fingerprint was verified. */
  started: { permissions: Permission[] };
  /** ended: the session is over; error says whether it ended on a failure. */
  ended: { reason: string; error: boolean };
  /** error: something failed; code is a proto error code where one applies. */
  error: { code: string; message: string };
  stats: AgentStats;
  chat: ChatLine;
  clipboard: { text: string };
  permissions: PermissionsMsg;
  monitors: Monitors;
}

type Listener<K extends keyof ReachEvents> = (detail: ReachEvents[K]) => void;

const OUTGOING_INPUT = new Set(["pointer", "button", "wheel", "key", "text", "combo"]);

/**
 * ReachSession runs one session. Create it, subscribe with on(), then call
 * createCode() (attended) or connectDevice() (unattended), and attach() a
 * <video> element. Everything the end user allows arrives as events; input
 * goes out through the send methods or automatically from the attached
 * element.
 */
export class ReachSession {
  /** state is the session's current state. */
  state: State = "idle";
  /** sid is the relay's session id once known. */
  sid = "";
  /** device is the peer device once known. */
  device: DeviceRef | null = null;
  /** permissions are what the end user currently allows. */
  permissions: Permission[] = [];
  /** viewOnly reports whether the technician switched their input off. */
  viewOnly = false;

  private readonly opts: ReachSessionOptions;
  private readonly sig = new Signaling();
  private listeners = new Map<keyof ReachEvents, Set<Listener<never>>>();
  private cert: Promise<RTCCertificate>;
  private deviceKey: Promise<Uint8Array<ArrayBuffer>> | null = null;
  private pc: RTCPeerConnection | null = null;
  private channels = new Map<string, RTCDataChannel>();
  private remoteCandidates: RTCIceCandidateInit[] = [];
  private localCandidates: CandidateBody[] | null = []; // null once the offer is out
  private verified = false;
  private stream: MediaStream | null = null;
  private video: HTMLVideoElement | null = null;
  private input: InputCapture | null = null;
  private lastStats: { at: number; frames: number; bytes: number; keyframes: number; plis: number; nacks: number } | null = null;

  constructor(opts: ReachSessionOptions) {
    this.opts = opts;
    // The certificate exists before any offer, so its fingerprint can be
    // granted by the console while the end user is still deciding.
    this.cert = RTCPeerConnection.generateCertificate({ name: "ECDSA", namedCurve: "P-256" } as EcKeyGenParams);
    this.sig.onMessage = (env) => this.dispatch(env);
    this.sig.onClose = (reason) => {
      // Media is peer to peer: an active session outlives its signaling.
      if (this.state !== "active" && this.state !== "ended") this.fail("relay", "signaling closed: " + reason);
    };
  }

  /** on subscribes to an event and returns a function that unsubscribes. */
  on<K extends keyof ReachEvents>(event: K, fn: Listener<K>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(fn as Listener<never>);
    return () => set.delete(fn as Listener<never>);
  }

  /** fingerprint resolves to this browser's DTLS fingerprint for the session. */
  async fingerprint(): Promise<string> {
    return certificateFingerprint(await this.cert);
  }

  /** createCode connects to the relay and asks for a session code (ttl in seconds, 0 for the default). */
  async createCode(ttl = 0): Promise<{ code: string; expires: Date; sid: string }> {
    await this.open();
    const reply = await this.sig.request<CodeCreated>("code.create", "", ttl ? { ttl } : {});
    const body = reply.body as CodeCreated;
    this.sid = reply.sid ?? "";
    this.state = "waiting";
    const detail = { code: body.code, expires: new Date(body.expires), sid: this.sid };
    this.emit("code", detail);
    return detail;
  }

  /** connectDevice connects to the relay and asks for an unattended session with deviceId. */
  async connectDevice(deviceId: string): Promise<string> {
    await this.open();
    const reply = await this.sig.request<{ device: DeviceRef }>("connect.request", "", { device_id: deviceId });
    this.sid = reply.sid ?? "";
    this.state = "consent";
    this.joined((reply.body as { device: DeviceRef }).device);
    return this.sid;
  }

  /**
   * attach shows the remote screen in video and, unless input is false,
   * captures pointer, wheel and keyboard on it. Call it at any time; the
   * video starts when media arrives.
   */
  attach(video: HTMLVideoElement, { input = true }: { input?: boolean } = {}): void {
    this.input?.detach();
    this.video = video;
    video.muted = true;
    video.autoplay = true;
    video.playsInline = true;
    if (this.stream) this.showStream();
    this.input = input ? new InputCapture(video, (m) => this.send(m)) : null;
  }

  /** sendPointer moves the remote pointer to x, y (0..1 of the shown display). */
  sendPointer(x: number, y: number): boolean {
    return this.send({ t: "pointer", x: unit(x), y: unit(y) });
  }

  /** sendButton presses or releases a mouse button at x, y. */
  sendButton(button: MouseButton, down: boolean, x: number, y: number): boolean {
    return this.send({ t: "button", button, down, x: unit(x), y: unit(y) });
  }

  /** sendWheel scrolls by dx, dy pixels. */
  sendWheel(dx: number, dy: number): boolean {
    return this.send({ t: "wheel", dx, dy });
  }

  /** sendKey presses or releases the key named by KeyboardEvent.code. */
  sendKey(code: string, down: boolean, mods: Modifiers = {}): boolean {
    if (!KEY_CODE.test(code)) throw new Error("not a KeyboardEvent.code: " + code);
    return this.send({ t: "key", code, down, mods });
  }

  /** sendText types text on the remote machine, in pieces the protocol allows. */
  sendText(text: string): boolean {
    let ok = true;
    for (const piece of chunks(text, MAX_TYPED_TEXT)) ok = this.send({ t: "text", text: piece }) && ok;
    return ok;
  }

  /** sendCombo presses keys together, then releases them (Ctrl+Alt+Del: ["ControlLeft","AltLeft","Delete"]). */
  sendCombo(keys: string[]): boolean {
    if (keys.length === 0 || keys.length > MAX_COMBO_KEYS || !keys.every((k) => KEY_CODE.test(k))) {
      throw new Error(`a combination is 1..${MAX_COMBO_KEYS} KeyboardEvent.code names`);
    }
    return this.send({ t: "combo", keys });
  }

  /** sendClipboard puts text on the remote clipboard (at most 64 KiB). */
  sendClipboard(text: string): boolean {
    if (utf8Length(text) > MAX_CLIPBOARD) throw new Error("clipboard text is larger than 64 KiB");
    return this.send({ t: "clipboard", text });
  }

  /** sendChat sends one chat line (at most 4 KiB). */
  sendChat(text: string): boolean {
    if (text === "" || utf8Length(text) > MAX_CHAT) throw new Error("a chat line is 1 byte to 4 KiB");
    return this.send({ t: "chat", from: "technician", text });
  }

  /** selectMonitor shows display index, or all of them with -1. */
  selectMonitor(index: number): boolean {
    return this.send({ t: "monitor", index });
  }

  /** setQuality states a quality preference and caps. */
  setQuality(q: Quality): boolean {
    return this.send({ t: "quality", ...q });
  }

  /** requestKeyframe asks the agent for a keyframe now. */
  requestKeyframe(): boolean {
    return this.send({ t: "keyframe" });
  }

  /** setViewOnly switches the technician's input off (true) or back on; input is dropped here too. */
  setViewOnly(on: boolean): boolean {
    this.viewOnly = on;
    return this.send({ t: "view_only", on });
  }

  /**
   * send sends a data-channel message on the channel that carries its type.
   * It returns false when the message was dropped: the channel is not open,
   * or it is input while view-only is on.
   */
  send(m: OutgoingDC): boolean {
    if (this.viewOnly && OUTGOING_INPUT.has(m.t)) return false;
    const ch = this.channels.get(dcChannel(m.t));
    if (!ch || ch.readyState !== "open") return false;
    ch.send(JSON.stringify(m));
    return true;
  }

  /** receiverStats reads the browser's statistics of the incoming video. */
  async receiverStats(): Promise<ReceiverStats | null> {
    if (!this.pc) return null;
    const report = await this.pc.getStats();
    let inbound: Record<string, unknown> | null = null;
    report.forEach((s: Record<string, unknown>) => {
      if (s["type"] === "inbound-rtp" && s["kind"] === "video") inbound = s;
    });
    if (!inbound) return null;
    const s = inbound as Record<string, number | string | undefined>;
    const num = (k: string) => Number(s[k] ?? 0);
    const codec = report.get(String(s["codecId"] ?? "")) as { mimeType?: string } | undefined;
    const now = performance.now();
    const frames = num("framesDecoded");
    const bytes = num("bytesReceived");
    const keyframes = num("keyFramesDecoded");
    const plis = num("pliCount");
    const nacks = num("nackCount");
    const last = this.lastStats ?? { at: now, frames, bytes, keyframes, plis, nacks };
    let fps = 0;
    let kbps = 0;
    if (now > last.at) {
      const dt = (now - last.at) / 1000;
      fps = (frames - last.frames) / dt;
      kbps = ((bytes - last.bytes) * 8) / 1000 / dt;
    }
    this.lastStats = { at: now, frames, bytes, keyframes, plis, nacks };
    const emitted = num("jitterBufferEmittedCount");
    return {
      codec: codec?.mimeType ?? "",
      width: num("frameWidth"),
      height: num("frameHeight"),
      framesDecoded: frames,
      framesDropped: num("framesDropped"),
      fps,
      kbps,
      jitterBufferMs: emitted ? (num("jitterBufferDelay") / emitted) * 1000 : 0,
      bytesReceived: bytes,
      keyframes: keyframes - last.keyframes,
      plis: plis - last.plis,
      nacks: nacks - last.nacks,
    };
  }

  /** end ends the session for both sides. */
  end(reason = "ended by the technician"): void {
    if (this.state === "ended") return;
    if (this.sid) {
      try {
        this.sig.send("session.end", this.sid, { reason } satisfies SessionEndBody);
      } catch {
        // signaling already gone: the relay ends the session on its own
      }
    }
    this.finish(reason, false);
  }

  private async open(): Promise<void> {
    if (this.state !== "idle") throw new Error("this session was already started");
    await this.sig.open(this.opts.relayURL, this.opts.token, this.opts.client || "reach-web");
  }

  private emit<K extends keyof ReachEvents>(event: K, detail: ReachEvents[K]): void {
    for (const fn of this.listeners.get(event) ?? []) {
      try {
        (fn as Listener<K>)(detail);
      } catch (err) {
        console.error("reach: listener for", event, "failed:", err);
      }
    }
  }

  private joined(device: DeviceRef): void {
    this.device = device;
    // Fetch the device's key now, not when the answer arrives.
    this.deviceKey = this.opts.getDeviceKey(device.id);
    this.deviceKey.catch(() => {}); // reported when awaited
    this.emit("peerJoined", device);
  }

  private dispatch(env: Envelope): void {
    if (env.sid && this.sid && env.sid !== this.sid) return;
    const body = env.body;
    switch (env.type) {
      case "peer.joined":
        this.state = "consent";
        this.joined((body as { device: DeviceRef }).device);
        return;
      case "consent.decision": {
        const d = body as ConsentDecision;
        this.emit("consent", d);
        if (d.decision === "deny") this.finish("the end user denied access" + (d.reason ? ` (${d.reason})` : ""), false);
        return;
      }
      case "session.start":
        this.startWebRTC(body as SessionStart).catch((err: Error) => this.fail("internal", err.message));
        return;
      case "sdp.answer":
        this.accept(body as SDPBody).catch((err: Error) => this.fail("internal", err.message));
        return;
      case "ice.candidate":
        this.remoteCandidate(body as CandidateBody);
        return;
      case "session.end":
        this.finish((body as SessionEndBody | undefined)?.reason || "the session ended", false);
        return;
      case "error": {
        const e = body as ErrorBody;
        this.emit("error", { code: e.code, message: e.message });
        return;
      }
    }
  }

  private async startWebRTC(start: SessionStart): Promise<void> {
    if (this.pc || this.state === "ended") return;
    if (!this.device) throw new Error("session started before the device was known");
    this.state = "negotiating";
    this.permissions = start.permissions;
    const cert = await this.cert;
    const fp = certificateFingerprint(cert);
    const grant = await this.opts.getGrant(fp, { sid: this.sid, deviceId: this.device.id });
    if (this.state !== "negotiating") return; // ended while the console answered
    const pc = new RTCPeerConnection({
      certificates: [cert],
      iceServers: (start.ice_servers ?? []).map((s) => ({ urls: s.urls, username: s.username, credential: s.credential })),
      bundlePolicy: "max-bundle",
    });
    this.pc = pc;
    const tr = pc.addTransceiver("video", { direction: "recvonly" });
    this.preferCodec(tr);
    for (const label of [CHANNEL_INPUT, CHANNEL_CONTROL, CHANNEL_CLIPBOARD, CHANNEL_CHAT]) {
      const ch = pc.createDataChannel(label, { ordered: true });
      ch.onmessage = (ev) => this.receiveDC(ev.data);
      this.channels.set(label, ch);
    }
    // The agent closing the control channel is its way of ending the
    // session when signaling is gone (the end user stopped it offline).
    // The close travels peer to peer and usually overtakes the agent's
    // session.end through the relay, so wait a moment for its reason.
    const control = this.channels.get(CHANNEL_CONTROL);
    if (control) {
      control.onclose = () => {
        setTimeout(() => this.finish("the device ended the session", false), ENDED_GRACE_MS);
      };
    }
    pc.ontrack = (ev) => {
      this.lowLatency(ev.receiver);
      this.stream = ev.streams[0] ?? new MediaStream([ev.track]);
      this.showStream();
    };
    pc.onicecandidate = (ev) => {
      if (!ev.candidate || !ev.candidate.candidate) return;
      const c: CandidateBody = { candidate: ev.candidate.candidate };
      if (ev.candidate.sdpMid != null) c.sdpMid = ev.candidate.sdpMid;
      if (ev.candidate.sdpMLineIndex != null) c.sdpMLineIndex = ev.candidate.sdpMLineIndex;
      if (ev.candidate.usernameFragment != null) c.usernameFragment = ev.candidate.usernameFragment;
      if (this.localCandidates) this.localCandidates.push(c);
      else this.sig.send("ice.candidate", this.sid, c);
    };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === "connected" && this.verified && this.state === "negotiating") {
        this.state = "active";
        this.emit("started", { permissions: this.permissions });
      } else if (pc.connectionState === "failed") {
        this.fail("connection_failed", "the connection to the device failed");
      }
    };
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    const sdp = pc.localDescription?.sdp ?? "";
    if (sdpFingerprint(sdp) !== fp) throw new Error("the offer does not carry the certificate the console granted");
    this.sig.send("sdp.offer", this.sid, { sdp, signature: grant } satisfies SDPBody);
    for (const c of this.localCandidates ?? []) this.sig.send("ice.candidate", this.sid, c);
    this.localCandidates = null;
  }

  private async accept(answer: SDPBody): Promise<void> {
    const pc = this.pc;
    if (!pc || !this.deviceKey || pc.remoteDescription) return;
    const key = await this.deviceKey;
    if (!(await verifyAnswer(key, this.sid, answer.sdp, answer.signature ?? ""))) {
      // Never apply an unverified answer: no media, no input.
      this.fail("forbidden", INTERCEPTED);
      return;
    }
    this.verified = true;
    await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
    // Candidates that raced ahead of the answer.
    for (const c of this.remoteCandidates) await pc.addIceCandidate(c).catch(() => {});
    this.remoteCandidates = [];
  }

  private remoteCandidate(c: CandidateBody): void {
    if (!c.candidate) return; // end of candidates
    const init: RTCIceCandidateInit = {
      candidate: c.candidate,
      sdpMid: c.sdpMid ?? null,
      sdpMLineIndex: c.sdpMLineIndex ?? null,
      usernameFragment: c.usernameFragment ?? null,
    };
    if (this.pc?.remoteDescription) this.pc.addIceCandidate(init).catch(() => {});
    else this.remoteCandidates.push(init);
  }

  private receiveDC(data: unknown): void {
    if (typeof data !== "string") return;
    let m: { t?: unknown } & Record<string, unknown>;
    try {
      m = JSON.parse(data) as typeof m;
    } catch {
      return;
    }
    switch (m.t) {
      case "stats":
        this.emit("stats", m as unknown as AgentStats);
        return;
      case "permissions":
        this.permissions = (m as unknown as PermissionsMsg).permissions;
        this.emit("permissions", m as unknown as PermissionsMsg);
        return;
      case "monitors":
        this.emit("monitors", m as unknown as Monitors);
        return;
      case "clipboard":
        this.emit("clipboard", { text: String(m["text"] ?? "") });
        return;
      case "chat":
        this.emit("chat", m as unknown as ChatLine);
        return;
    }
  }

  private preferCodec(tr: RTCRtpTransceiver): void {
    const want = this.opts.preferCodec?.toLowerCase();
    const caps = RTCRtpReceiver.getCapabilities("video");
    if (!want || !caps || !tr.setCodecPreferences) return;
    const first = caps.codecs.filter((c) => c.mimeType.toLowerCase() === "video/" + want);
    if (first.length === 0) return;
    tr.setCodecPreferences([...first, ...caps.codecs.filter((c) => !first.includes(c))]);
  }

  /**
   * lowLatency asks the receiver to render frames as soon as they are
   * decoded (jitterBufferTarget, where the browser supports it).
   */
  private lowLatency(receiver: RTCRtpReceiver): void {
    if ("jitterBufferTarget" in receiver) receiver.jitterBufferTarget = 0;
  }

  private showStream(): void {
    if (!this.video || !this.stream) return;
    if (this.video.srcObject !== this.stream) this.video.srcObject = this.stream;
    this.video.play().catch(() => {}); // muted autoplay is allowed; a refusal leaves the poster
  }

  private fail(code: string, message: string): void {
    if (this.state === "ended") return;
    this.emit("error", { code, message });
    if (this.sid) {
      try {
        this.sig.send("session.end", this.sid, { reason: message } satisfies SessionEndBody);
      } catch {
        // signaling already gone
      }
    }
    this.finish(message, true);
  }

  private finish(reason: string, error: boolean): void {
    if (this.state === "ended") return;
    this.state = "ended";
    this.input?.detach();
    this.input = null;
    for (const ch of this.channels.values()) ch.close();
    this.pc?.close();
    if (this.video) this.video.srcObject = null;
    this.stream = null;
    this.sig.close();
    this.emit("ended", { reason, error });
  }
}

/** unit clamps v to 0..1, the range of normalized coordinates. */
function unit(v: number): number {
  return Number.isFinite(v) ? Math.max(0, Math.min(1, v)) : 0;
}

/** chunks splits s into pieces of at most max UTF-8 bytes, never inside a character. */
function chunks(s: string, max: number): string[] {
  const out: string[] = [];
  let cur = "";
  let len = 0;
  for (const ch of s) {
    const n = utf8Length(ch);
    if (len + n > max) {
      out.push(cur);
      cur = "";
      len = 0;
    }
    cur += ch;
    len += n;
  }
  if (cur) out.push(cur);
  return out;
}

// Test page hooks: window.reachTest lets the e2e harness (Playwright) start
// a session, watch its events and read decoded video pixels. Pixels are read
// from the decoded frame in requestVideoFrameCallback with VideoFrame.copyTo
// (a canvas readback costs 30–60 ms per frame in headless Chromium and would
// distort every timing; see ../shared/FACTS.md).

import { ReachSession } from "../client/index.js";
import type { ReachEvents } from "../client/index.js";

/** StartConfig is what the harness passes to start(). */
interface StartConfig {
  relayURL: string;
  token: string;
  /** grantURL answers GET ?fp=&sid=&device= with a console-signed grant. */
  grantURL: string;
  /** keyURL answers GET ?device= with the device's base64 Ed25519 public key. */
  keyURL: string;
  /** deviceId connects unattended; empty creates a session code. */
  deviceId?: string;
  preferCodec?: string;
}

/** LoggedEvent is one session event as the harness sees it. */
interface LoggedEvent {
  name: keyof ReachEvents;
  detail: unknown;
  at: number;
}

/** ClockConfig describes the time pattern an X client paints (e2e bench). */
interface ClockConfig {
  /** bits is the number of blocks in the top row, most significant first. */
  bits: number;
  /** blockW and blockH are a block's size in video pixels. */
  blockW: number;
  blockH: number;
}

const video = document.getElementById("screen") as HTMLVideoElement;
const status = document.getElementById("status") as HTMLElement;
const errorBox = document.getElementById("error") as HTMLElement;
const log: LoggedEvent[] = [];
const waiters: Array<{ name: string; resolve(d: unknown): void }> = [];
let session: ReachSession | null = null;
let presented = 0;
let latencies: number[] = [];
let clock: ClockConfig | null = null;

const EVENTS: Array<keyof ReachEvents> = [
  "code", "peerJoined", "consent", "started", "ended", "error", "stats", "chat", "clipboard", "permissions", "monitors",
];

function record(name: keyof ReachEvents, detail: unknown): void {
  log.push({ name, detail, at: Date.now() });
  if (name === "ended") status.textContent = "ended: " + (detail as { reason: string }).reason;
  else if (name !== "stats") status.textContent = name;
  if (name === "error") errorBox.textContent = (detail as { message: string }).message;
  for (let i = waiters.length - 1; i >= 0; i--) {
    const w = waiters[i]!;
    if (w.name === name) {
      waiters.splice(i, 1);
      w.resolve(detail);
    }
  }
}

async function fetchText(url: string): Promise<string> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: ${r.status}`);
  return (await r.text()).trim();
}

/** onFrame runs for every presented frame: counts it and, when asked, decodes the time pattern. */
function onFrame(_now: DOMHighResTimeStamp, meta: VideoFrameCallbackMetadata): void {
  video.requestVideoFrameCallback(onFrame);
  presented = meta.presentedFrames;
  if (!clock) return;
  const t = Date.now();
  readClock(clock).then((sent) => {
    if (sent === null) return;
    const lat = ((t % 2 ** 24) - sent + 2 ** 24) % 2 ** 24;
    if (lat < 5000) latencies.push(lat);
  });
}
video.requestVideoFrameCallback(onFrame);

/** readRGBX copies a rectangle of the current frame as RGBX bytes, or null before the first frame. */
async function readRGBX(x: number, y: number, w: number, h: number): Promise<Uint8Array | null> {
  let frame: VideoFrame;
  try {
    frame = new VideoFrame(video);
  } catch {
    return null;
  }
  try {
    const rect = {
      x: Math.max(0, Math.min(x, frame.codedWidth - w)) & ~1,
      y: Math.max(0, Math.min(y, frame.codedHeight - h)) & ~1,
      width: w,
      height: h,
    };
    const buf = new Uint8Array(w * h * 4);
    await frame.copyTo(buf, { rect, format: "RGBX" });
    return buf;
  } finally {
    frame.close();
  }
}

/** readClock decodes the painted time (24 bits of Unix ms) checked by its 8-bit sum, or null. */
async function readClock(c: ClockConfig): Promise<number | null> {
  const h = c.blockH & ~1;
  const w = c.bits * c.blockW;
  const px = await readRGBX(0, 0, w, h);
  if (!px) return null;
  let v = 0;
  const row = Math.floor(h / 2);
  for (let i = 0; i < c.bits; i++) {
    const x = i * c.blockW + Math.floor(c.blockW / 2);
    v = v * 2 + (px[(row * w + x) * 4 + 1]! > 128 ? 1 : 0);
  }
  // 24 bits of time, then 8 bits holding the sum of the three time bytes,
  // so that a frame caught half-painted is rejected.
  const t = Math.floor(v / 256);
  const sum = ((t >> 16) + ((t >> 8) & 255) + (t & 255)) & 255;
  return v % 256 === sum ? t : null;
}

const api = {
  /** start creates the session; it resolves to the code (attended) or the sid (unattended). */
  async start(cfg: StartConfig): Promise<string> {
    const s = new ReachSession({
      relayURL: cfg.relayURL,
      token: cfg.token,
      preferCodec: cfg.preferCodec ?? "",
      client: "reach-testpage",
      getGrant: (fp, ctx) =>
        fetchText(`${cfg.grantURL}?fp=${encodeURIComponent(fp)}&sid=${encodeURIComponent(ctx.sid)}&device=${encodeURIComponent(ctx.deviceId)}`),
      getDeviceKey: async (id) => {
        const b64 = await fetchText(`${cfg.keyURL}?device=${encodeURIComponent(id)}`);
        return Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
      },
    });
    session = s;
    for (const name of EVENTS) s.on(name, (d) => record(name, d));
    s.attach(video);
    if (cfg.deviceId) return s.connectDevice(cfg.deviceId);
    return (await s.createCode()).code;
  },
  /** session returns the running session, for calls the hooks do not wrap. */
  get session(): ReachSession {
    if (!session) throw new Error("no session: call start first");
    return session;
  },
  /** events lists what happened so far. */
  events: (): LoggedEvent[] => log,
  /** waitEvent resolves with the detail of the first event called name, past or future. */
  waitEvent(name: string, timeoutMs = 20000): Promise<unknown> {
    const past = log.find((e) => e.name === name);
    if (past) return Promise.resolve(past.detail);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no ${name} event within ${timeoutMs} ms`)), timeoutMs);
      waiters.push({ name, resolve: (d) => { clearTimeout(t); resolve(d); } });
    });
  },
  /** presentedFrames is the number of video frames presented so far. */
  presentedFrames: (): number => presented,
  /** videoSize is the decoded picture's size. */
  videoSize: () => ({ width: video.videoWidth, height: video.videoHeight }),
  /** videoBox is the video element's rectangle in page coordinates. */
  videoBox: () => {
    const r = video.getBoundingClientRect();
    return { x: r.left, y: r.top, width: r.width, height: r.height };
  },
  /** sample returns the RGB colour at each [x, y] (video pixels) of the next frame. */
  async sample(points: Array<[number, number]>): Promise<Array<[number, number, number]>> {
    await new Promise<void>((r) => video.requestVideoFrameCallback(() => r()));
    const out: Array<[number, number, number]> = [];
    for (const [x, y] of points) {
      const px = await readRGBX(x, y, 2, 2);
      if (!px) throw new Error("no decoded frame to sample");
      out.push([px[0]!, px[1]!, px[2]!]);
    }
    return out;
  },
  /** startClock begins decoding the painted time in every frame. */
  startClock(c: ClockConfig): void {
    clock = c;
    latencies = [];
  },
  /** stopClock stops decoding and returns the latencies measured, ms. */
  stopClock(): number[] {
    clock = null;
    return latencies;
  },
  /**
   * agentStats averages the agent's stats messages received after since
   * (ms since the epoch): frames sent per second, kbit/s and encode ms.
   */
  agentStats(since: number): { fps: number; kbps: number; encodeMs: number; count: number } {
    const xs = log.filter((e) => e.name === "stats" && e.at >= since).map((e) => e.detail as ReachEvents["stats"]);
    const avg = (f: (s: ReachEvents["stats"]) => number) => (xs.length ? xs.reduce((a, s) => a + f(s), 0) / xs.length : 0);
    return { fps: avg((s) => s.fps), kbps: avg((s) => s.kbps), encodeMs: avg((s) => s.encode_ms), count: xs.length };
  },
  /** errorText is what the page shows the technician as an error. */
  errorText: (): string => errorBox.textContent ?? "",
};

declare global {
  interface Window {
    reachTest: typeof api;
  }
}
window.reachTest = api;

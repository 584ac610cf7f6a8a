// Signaling: one WebSocket to the relay's /v1/technician endpoint speaking
// reach.v1 envelopes (proto/envelope.go), with hello, heartbeat and
// request/reply matching by envelope id.

import { CAPABILITY, SUBPROTOCOL, VERSION } from "./proto.js";
import type { Envelope, ErrorBody, Welcome } from "./proto.js";

/** RelayError is an error the relay returned (an "error" message). */
export class RelayError extends Error {
  /** code is the proto error code, e.g. "invalid_code" or "forbidden". */
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "RelayError";
    this.code = code;
  }
}

interface Pending {
  resolve(env: Envelope): void;
  reject(err: Error): void;
}

/**
 * Signaling owns the WebSocket. Unsolicited messages (those that answer no
 * pending request) go to onMessage; onClose fires once when the socket
 * closes for any reason.
 */
export class Signaling {
  onMessage: (env: Envelope) => void = () => {};
  onClose: (reason: string) => void = () => {};

  private ws: WebSocket | null = null;
  private nextID = 1;
  private pending = new Map<string, Pending>();
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private closed = false;

  /** open connects to url, says hello with token and resolves with the relay's welcome. */
  async open(url: string, token: string, client: string): Promise<Welcome> {
    const ws = new WebSocket(url, SUBPROTOCOL);
    this.ws = ws;
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error("cannot reach the relay at " + url));
    });
    ws.onmessage = (ev) => this.receive(ev.data);
    ws.onclose = (ev) => this.shutdown(ev.reason || "the relay closed the connection");
    ws.onerror = null;
    const reply = await this.request<Welcome>("hello", "", {
      version: VERSION,
      capability: CAPABILITY,
      token,
      client,
    });
    const welcome = reply.body as Welcome;
    const every = Math.max(1, welcome.heartbeat) * 1000;
    // Heartbeats carry no id: the relay notes them and does not answer.
    this.heartbeat = setInterval(() => this.send("ping", "", { t: Date.now() }), every);
    return welcome;
  }

  /** send sends one message without waiting for a reply. */
  send(type: string, sid: string, body: unknown): void {
    this.write({ v: VERSION, type, sid: sid || undefined, body });
  }

  /**
   * request sends a message with a fresh id and resolves with the reply that
   * echoes it; an "error" reply rejects with a RelayError.
   */
  request<B>(type: string, sid: string, body: unknown): Promise<Envelope<B>> {
    const id = String(this.nextID++);
    return new Promise<Envelope<B>>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (env: Envelope) => void, reject });
      try {
        this.write({ v: VERSION, type, id, sid: sid || undefined, body });
      } catch (err) {
        this.pending.delete(id);
        reject(err as Error);
      }
    });
  }

  /** close closes the socket; pending requests are rejected. */
  close(): void {
    this.ws?.close(1000, "bye");
    this.shutdown("closed");
  }

  private write(env: Envelope): void {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) throw new Error("signaling is not connected");
    this.ws.send(JSON.stringify(env));
  }

  private receive(data: unknown): void {
    if (typeof data !== "string") return;
    let env: Envelope;
    try {
      env = JSON.parse(data) as Envelope;
    } catch {
      return; // the relay only sends JSON; ignore anything else
    }
    const waiter = env.id ? this.pending.get(env.id) : undefined;
    if (waiter && env.id) {
      this.pending.delete(env.id);
      if (env.type === "error") {
        const e = env.body as ErrorBody;
        waiter.reject(new RelayError(e.code, e.message));
      } else {
        waiter.resolve(env);
      }
      return;
    }
    this.onMessage(env);
  }

  private shutdown(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    for (const p of this.pending.values()) p.reject(new Error("signaling closed: " + reason));
    this.pending.clear();
    this.onClose(reason);
  }
}

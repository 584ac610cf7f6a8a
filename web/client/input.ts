// Input capture: turns DOM pointer, wheel and keyboard events on the video
// element into proto/datachannel.go input messages, with coordinates
// normalized to the video's displayed content box.

import type { Modifiers, MouseButton, OutgoingDC } from "./proto.js";
import { KEY_CODE, MAX_WHEEL_DELTA } from "./proto.js";

/** Point is a position normalized to the shown display: 0..1 on both axes. */
export interface Point {
  x: number;
  y: number;
}

/**
 * contentBox returns the rectangle, in client (viewport) coordinates, where
 * video actually draws its picture: the element's content box reduced by
 * object-fit letterboxing ("contain", the default for <video>, "scale-down",
 * "none", "cover" and "fill" are handled; object-position is taken as
 * centred).
 */
export function contentBox(video: HTMLVideoElement): DOMRect {
  const r = video.getBoundingClientRect();
  const cs = getComputedStyle(video);
  const px = (v: string) => parseFloat(v) || 0;
  const left = r.left + px(cs.borderLeftWidth) + px(cs.paddingLeft);
  const top = r.top + px(cs.borderTopWidth) + px(cs.paddingTop);
  const w = r.width - px(cs.borderLeftWidth) - px(cs.paddingLeft) - px(cs.paddingRight) - px(cs.borderRightWidth);
  const h = r.height - px(cs.borderTopWidth) - px(cs.paddingTop) - px(cs.paddingBottom) - px(cs.borderBottomWidth);
  const vw = video.videoWidth;
  const vh = video.videoHeight;
  if (!vw || !vh || w <= 0 || h <= 0) return new DOMRect(left, top, Math.max(w, 0), Math.max(h, 0));
  let scale: number;
  switch (cs.objectFit) {
    case "fill":
      return new DOMRect(left, top, w, h);
    case "cover":
      scale = Math.max(w / vw, h / vh);
      break;
    case "none":
      scale = 1;
      break;
    case "scale-down":
      scale = Math.min(1, w / vw, h / vh);
      break;
    default: // contain
      scale = Math.min(w / vw, h / vh);
  }
  const cw = vw * scale;
  const ch = vh * scale;
  return new DOMRect(left + (w - cw) / 2, top + (h - ch) / 2, cw, ch);
}

/**
 * normalize maps a client-coordinate position to the shown display, or
 * returns null when it falls outside the picture (on a letterbox bar, or
 * outside the element when the picture overflows it).
 */
export function normalize(video: HTMLVideoElement, clientX: number, clientY: number): Point | null {
  const box = contentBox(video);
  if (box.width <= 0 || box.height <= 0) return null;
  const x = (clientX - box.left) / box.width;
  const y = (clientY - box.top) / box.height;
  if (x < 0 || x > 1 || y < 0 || y > 1) return null;
  const el = video.getBoundingClientRect();
  if (clientX < el.left || clientX > el.right || clientY < el.top || clientY > el.bottom) return null;
  return { x, y };
}

const BUTTONS: MouseButton[] = ["left", "middle", "right", "back", "forward"];

/** modifiers returns the modifiers held during ev. */
export function modifiers(ev: KeyboardEvent | MouseEvent): Modifiers {
  const m: Modifiers = {};
  if (ev.ctrlKey) m.ctrl = true;
  if (ev.altKey) m.alt = true;
  if (ev.shiftKey) m.shift = true;
  if (ev.metaKey) m.meta = true;
  return m;
}

/**
 * InputCapture listens on a video element (and, for keys, on keyTarget) and
 * hands input messages to send. Pointer moves are coalesced to one per
 * animation frame; a button event first flushes the pending move so the
 * agent sees them in order. Keys are captured while the video element has
 * focus (it is made focusable); their default action is prevented, so the
 * browser does not act on Tab, Backspace, F5 and the like. Keys still held
 * when focus leaves are released on the agent.
 */
export class InputCapture {
  private pendingMove: Point | null = null;
  private last: Point = { x: 0.5, y: 0.5 }; // last position sent, for releases
  private wheel = { dx: 0, dy: 0 };
  private frame = 0;
  private held = new Set<string>();
  private buttonsDown = new Set<number>();
  private readonly abort = new AbortController();

  constructor(
    private readonly video: HTMLVideoElement,
    private readonly send: (m: OutgoingDC) => void,
  ) {
    const opts = { signal: this.abort.signal };
    const v = video;
    if (!v.hasAttribute("tabindex")) v.tabIndex = 0; // focusable, to receive keys
    v.addEventListener("pointermove", (ev) => this.move(ev), opts);
    v.addEventListener("pointerdown", (ev) => this.button(ev, true), opts);
    v.addEventListener("pointerup", (ev) => this.button(ev, false), opts);
    v.addEventListener("wheel", (ev) => this.scroll(ev), { ...opts, passive: false });
    v.addEventListener("contextmenu", (ev) => ev.preventDefault(), opts);
    v.addEventListener("keydown", (ev) => this.key(ev, true), opts);
    v.addEventListener("keyup", (ev) => this.key(ev, false), opts);
    v.addEventListener("blur", () => this.releaseAll(), opts);
  }

  /** detach removes every listener and releases held keys and buttons. */
  detach(): void {
    this.releaseAll();
    this.abort.abort();
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
  }

  private schedule(): void {
    if (!this.frame) this.frame = requestAnimationFrame(() => this.flush());
  }

  /** flush sends the coalesced pointer move and wheel deltas. */
  private flush(): void {
    this.frame = 0;
    if (this.pendingMove) {
      this.last = this.pendingMove;
      this.send({ t: "pointer", ...this.pendingMove });
      this.pendingMove = null;
    }
    const clamp = (d: number) => Math.max(-MAX_WHEEL_DELTA, Math.min(MAX_WHEEL_DELTA, Math.round(d)));
    if (this.wheel.dx || this.wheel.dy) {
      this.send({ t: "wheel", dx: clamp(this.wheel.dx), dy: clamp(this.wheel.dy) });
      this.wheel = { dx: 0, dy: 0 };
    }
  }

  private move(ev: PointerEvent): void {
    const p = normalize(this.video, ev.clientX, ev.clientY);
    if (!p) return;
    this.pendingMove = p;
    this.schedule();
  }

  private button(ev: PointerEvent, down: boolean): void {
    const name = BUTTONS[ev.button];
    const p = normalize(this.video, ev.clientX, ev.clientY);
    if (!name || (!p && down) || (!down && !this.buttonsDown.has(ev.button))) return;
    ev.preventDefault();
    if (down) {
      this.video.focus({ preventScroll: true });
      this.video.setPointerCapture?.(ev.pointerId);
      this.buttonsDown.add(ev.button);
    } else {
      this.buttonsDown.delete(ev.button);
    }
    const at = p ?? clampToBox(this.video, ev.clientX, ev.clientY);
    this.pendingMove = null;
    this.flush();
    this.last = at;
    this.send({ t: "button", button: name, down, x: at.x, y: at.y });
  }

  private scroll(ev: WheelEvent): void {
    if (!normalize(this.video, ev.clientX, ev.clientY)) return;
    ev.preventDefault();
    // proto.Wheel is in pixels (deltaMode 0); lines and pages are converted.
    const unit = ev.deltaMode === 1 ? 40 : ev.deltaMode === 2 ? 800 : 1;
    this.wheel.dx += ev.deltaX * unit;
    this.wheel.dy += ev.deltaY * unit;
    this.schedule();
  }

  private key(ev: KeyboardEvent, down: boolean): void {
    if (!KEY_CODE.test(ev.code) || ev.isComposing) return;
    ev.preventDefault();
    ev.stopPropagation();
    if (down) this.held.add(ev.code);
    else if (!this.held.delete(ev.code)) return; // its press went elsewhere
    this.flush();
    this.send({ t: "key", code: ev.code, down, mods: modifiers(ev) });
  }

  private releaseAll(): void {
    for (const code of this.held) this.send({ t: "key", code, down: false, mods: {} });
    this.held.clear();
    for (const b of this.buttonsDown) {
      const name = BUTTONS[b];
      if (name) this.send({ t: "button", button: name, down: false, ...this.last });
    }
    this.buttonsDown.clear();
  }
}

/** clampToBox maps a position to the shown display, clamped to its edges. */
function clampToBox(video: HTMLVideoElement, clientX: number, clientY: number): Point {
  const box = contentBox(video);
  const c = (v: number) => Math.max(0, Math.min(1, v));
  return {
    x: c(box.width > 0 ? (clientX - box.left) / box.width : 0.5),
    y: c(box.height > 0 ? (clientY - box.top) / box.height : 0.5),
  };
}

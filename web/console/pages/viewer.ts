// The live session viewer: creates the session with the console API,
// connects to the relay with ReachSession (web/client), shows the code to
// read out (attended) and then the remote screen full-window with
// fit/actual size, keyboard capture and a menu of the combinations the
// browser keeps, mouse and wheel, clipboard both ways, chat, monitor
// switch, view-only/control, a status line (fps, bitrate, latency) and end.
// Session events go to the console for the session log.

import { ReachSession } from "../../client/index.js";
import type { AgentStats, Monitors, Permission, ReceiverStats } from "../../client/index.js";
import { get, post } from "../api.js";
import type { Session, SessionStart } from "../api.js";
import { h, replace } from "../dom.js";
import { link, message, toast } from "../ui.js";

/** COMBOS are key combinations the technician's own OS or browser would take. */
const COMBOS: [string, string[]][] = [
  ["Ctrl+Alt+Del", ["ControlLeft", "AltLeft", "Delete"]],
  ["Ctrl+Shift+Esc", ["ControlLeft", "ShiftLeft", "Escape"]],
  ["Alt+Tab", ["AltLeft", "Tab"]],
  ["Alt+F4", ["AltLeft", "F4"]],
  ["Ctrl+W", ["ControlLeft", "KeyW"]],
  ["Ctrl+T", ["ControlLeft", "KeyT"]],
  ["Ctrl+N", ["ControlLeft", "KeyN"]],
  ["Super (Windows key)", ["MetaLeft"]],
  ["Super+L (lock)", ["MetaLeft", "KeyL"]],
  ["Print Screen", ["PrintScreen"]],
  ["Ctrl+Alt+F1", ["ControlLeft", "AltLeft", "F1"]],
  ["Ctrl+Alt+F7", ["ControlLeft", "AltLeft", "F7"]],
];

/** b64 decodes standard base64 into bytes. */
function b64(s: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}

/** technicianURL makes the relay's technician endpoint URL from a base URL. */
function technicianURL(base: string): string {
  let u = base.replace(/\/+$/, "");
  if (u.startsWith("http")) u = "ws" + u.slice(4);
  if (!u) u = (location.protocol === "https:" ? "wss://" : "ws://") + location.host;
  return u.endsWith("/v1/technician") ? u : u + "/v1/technician";
}

/** viewerPage is /sessions/new?ticket=N | ?device=N, and /sessions/:id. */
export async function viewerPage(main: HTMLElement, p: Record<string, string>, query: URLSearchParams): Promise<void | (() => void)> {
  if (p["id"] !== "new") return pastSession(main, Number(p["id"]));
  const ticket = Number(query.get("ticket") ?? 0);
  const device = Number(query.get("device") ?? 0);
  const started = await post<SessionStart>("/sessions", ticket ? { kind: "attended", ticket_id: ticket } : { kind: "unattended", device_id: device });
  const sess = started.session;
  history.replaceState(null, "", "/sessions/" + sess.id);
  return live(main, sess, started);
}

/** pastSession shows a session that is not live in this tab. */
async function pastSession(main: HTMLElement, id: number): Promise<void> {
  const s = await get<Session>("/sessions/" + id);
  replace(main, h("h1", {}, "Session " + s.id),
    h("section", { class: "panel" },
      h("p", {}, s.ended_at ? "This session has ended." : "This session is not connected in this window: start a new one to see the screen."),
      s.ticket_id ? h("p", {}, link("/tickets/" + s.ticket_id, "Back to ticket #" + s.ticket_id)) : null,
      s.device_id ? h("p", {}, link("/devices/" + s.device_id, "Back to the device")) : null));
}

/** live runs the viewer for a new session; its cleanup ends the session. */
function live(main: HTMLElement, sess: Session, started: SessionStart): () => void {
  document.body.classList.add("viewing");
  const back = sess.ticket_id ? "/tickets/" + sess.ticket_id : sess.device_id ? "/devices/" + sess.device_id : "/tickets";
  const events: { type: string; detail?: unknown }[] = [];
  let flushTimer = 0;
  const flush = () => {
    flushTimer = 0;
    if (events.length === 0) return;
    const batch = events.splice(0, 100);
    post(`/sessions/${sess.id}/events`, batch).catch(() => {});
  };
  const record = (type: string, detail?: unknown) => {
    events.push({ type, detail: { ...(detail as object), at: new Date().toISOString() } });
    if (!flushTimer) flushTimer = window.setTimeout(flush, 500);
  };

  const rs = new ReachSession({
    relayURL: technicianURL(started.relay_url),
    token: started.token,
    getGrant: async (fingerprint, ctx) => (await post<{ grant: string }>(`/sessions/${sess.id}/grant`, { fingerprint, device_id: ctx.deviceId })).grant,
    getDeviceKey: async (deviceId) => {
      // Enrolled devices have their key on record; a quick-support agent
      // registered an ephemeral one for this session's code.
      if (/^[0-9]+$/.test(deviceId)) {
        try {
          return b64((await get<{ public_key: string }>(`/devices/${deviceId}/key`)).public_key);
        } catch {
          // fall through to the session's key
        }
      }
      return b64((await get<{ public_key: string }>(`/sessions/${sess.id}/device-key`)).public_key);
    },
    client: "reach-console",
  });

  // Layout.
  const video = h("video", { class: "fit", id: "remote-screen", "aria-label": "Remote screen. Focus it to send keys; Escape twice leaves." });
  const overlay = h("div", { class: "overlay", id: "overlay", role: "status", "aria-live": "polite" });
  const chatLog = h("ol", { id: "chat-log", "aria-label": "Chat", "aria-live": "polite" });
  const chatInput = h("input", { type: "text", id: "chat-input", maxlength: 4000, "aria-label": "Chat message" });
  const chatForm = h("form", { class: "row" }, chatInput, h("button", { type: "submit" }, "Send"));
  const clipIn = h("textarea", { id: "clipboard-text", "aria-label": "Clipboard text to send", rows: 3 });
  const clipSend = h("button", { type: "button", id: "clipboard-send" }, "Send to remote clipboard");
  const clipGot = h("pre", { class: "raw", id: "clipboard-received", "aria-label": "Remote clipboard" });
  const side = h("aside", { class: "side", id: "side", hidden: true, "aria-label": "Chat and clipboard" },
    h("strong", {}, "Chat"), chatLog, chatForm,
    h("strong", {}, "Clipboard"), clipIn, clipSend, h("span", { class: "muted" }, "From the remote machine:"), clipGot);
  const stage = h("div", { class: "stage" }, video, overlay, side);

  const btn = (id: string, text: string, title: string) => h("button", { type: "button", id, title }, text);
  const fit = btn("fit", "Actual size", "Switch between fit to window and actual size");
  const viewOnly = btn("view-only", "View only", "Stop sending your mouse and keyboard");
  viewOnly.setAttribute("aria-pressed", "false");
  const keys = btn("keys", "Keys ▾", "Send key combinations your browser would keep");
  keys.setAttribute("aria-haspopup", "menu");
  keys.setAttribute("aria-expanded", "false");
  const monitor = h("select", { id: "monitor", "aria-label": "Monitor", disabled: true }, h("option", { value: "-1" }, "All monitors"));
  const quality = h("select", { id: "quality", "aria-label": "Quality" },
    h("option", { value: "auto" }, "Auto quality"), h("option", { value: "speed" }, "Favour speed"), h("option", { value: "quality" }, "Favour quality"));
  const chatBtn = btn("chat-toggle", "Chat & clipboard", "Show the chat and clipboard panel");
  chatBtn.setAttribute("aria-pressed", "false");
  const full = btn("fullscreen", "Full screen", "Full screen (keys like Alt+Tab are captured too)");
  const end = h("button", { type: "button", id: "end-session", class: "danger" }, "End session");
  const statusLine = h("div", { class: "status", id: "status-line", role: "status" });
  const state = h("span", { id: "session-state" }, "connecting");
  const numbers = h("span", { id: "session-numbers" });
  const perms = h("span", { id: "session-permissions" });
  replace(statusLine, state, perms, numbers);
  const bar = h("div", { class: "bar", role: "toolbar", "aria-label": "Session controls" }, link(back, "← Back"), fit, viewOnly, keys, monitor, quality, chatBtn, full, end);
  replace(main, h("div", { class: "viewer" }, bar, stage, statusLine));
  const menu = h("div", { class: "menu", role: "menu", id: "keys-menu", hidden: true, "aria-label": "Key combinations" },
    ...COMBOS.map(([label, codes]) => {
      const item = h("button", { type: "button", role: "menuitem", tabindex: "-1" }, label);
      item.addEventListener("click", () => {
        closeMenu();
        try {
          if (!rs.sendCombo(codes)) toast("Not sent: no control right now", true);
        } catch (err) {
          toast(message(err), true);
        }
        video.focus();
      });
      return item;
    }));
  stage.appendChild(menu);

  // Overlay messages.
  const say = (...children: (string | Node)[]) => {
    replace(overlay, ...children);
    overlay.hidden = children.length === 0;
  };
  say(h("p", {}, "Connecting to the relay…"));

  // Controls.
  fit.addEventListener("click", () => {
    const actual = video.classList.toggle("actual");
    video.classList.toggle("fit", !actual);
    fit.textContent = actual ? "Fit to window" : "Actual size";
  });
  viewOnly.addEventListener("click", () => {
    const on = viewOnly.getAttribute("aria-pressed") !== "true";
    rs.setViewOnly(on);
    viewOnly.setAttribute("aria-pressed", String(on));
    record("view_only", { on });
  });
  const items = () => [...menu.querySelectorAll<HTMLButtonElement>("button")];
  const closeMenu = () => {
    menu.hidden = true;
    keys.setAttribute("aria-expanded", "false");
  };
  keys.addEventListener("click", () => {
    if (!menu.hidden) return closeMenu();
    menu.style.left = keys.offsetLeft + "px";
    menu.style.top = "0px";
    menu.hidden = false;
    keys.setAttribute("aria-expanded", "true");
    items()[0]?.focus();
  });
  menu.addEventListener("keydown", (ev) => {
    const list = items();
    const i = list.indexOf(document.activeElement as HTMLButtonElement);
    if (ev.key === "ArrowDown") list[(i + 1) % list.length]?.focus();
    else if (ev.key === "ArrowUp") list[(i + list.length - 1) % list.length]?.focus();
    else if (ev.key === "Escape") {
      closeMenu();
      keys.focus();
    } else return;
    ev.preventDefault();
  });
  monitor.addEventListener("change", () => rs.selectMonitor(Number(monitor.value)));
  quality.addEventListener("change", () => rs.setQuality({ mode: quality.value as "auto" | "speed" | "quality" }));
  chatBtn.addEventListener("click", () => {
    side.hidden = !side.hidden;
    chatBtn.setAttribute("aria-pressed", String(!side.hidden));
    if (!side.hidden) chatInput.focus();
  });
  full.addEventListener("click", () => {
    const el = main.querySelector(".viewer") as HTMLElement;
    if (document.fullscreenElement) void document.exitFullscreen();
    else
      el.requestFullscreen().then(() => {
        // Keyboard Lock lets Alt+Tab, Escape and the like reach the remote.
        (navigator as Navigator & { keyboard?: { lock?: () => Promise<void> } }).keyboard?.lock?.().catch(() => {});
        video.focus();
      }, () => {});
  });
  end.addEventListener("click", () => rs.end());
  chatForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = chatInput.value.trim();
    if (!text) return;
    try {
      if (!rs.sendChat(text)) throw new Error("the chat is not open yet");
      chatLog.appendChild(h("li", {}, h("strong", {}, "You: "), text));
      record("chat", { from: "technician", text });
      chatInput.value = "";
    } catch (err) {
      toast(message(err), true);
    }
  });
  clipSend.addEventListener("click", async () => {
    let text = clipIn.value;
    if (!text && navigator.clipboard?.readText) text = await navigator.clipboard.readText().catch(() => "");
    if (!text) return toast("Type or paste the text to send", true);
    try {
      if (!rs.sendClipboard(text)) throw new Error("no clipboard permission right now");
      record("clipboard", { direction: "to_device", bytes: text.length });
      toast("Sent to the remote clipboard");
    } catch (err) {
      toast(message(err), true);
    }
  });
  // Ctrl+Shift+V on the video sends this machine's clipboard, when the browser allows reading it.
  video.addEventListener("paste", (ev) => {
    const text = ev.clipboardData?.getData("text/plain");
    if (text) rs.sendClipboard(text);
  });

  // Session events.
  const permText = (ps: Permission[]) => (ps.includes("control") ? "control" : ps.includes("view") ? "view only" : "no access");
  rs.on("code", ({ code, sid, expires }) => {
    post(`/sessions/${sess.id}/relay`, { sid, code }).catch((err) => toast("The console did not record the session: " + message(err), true));
    const grouped = code.slice(0, 3) + " " + code.slice(3, 6) + " " + code.slice(6);
    say(h("p", {}, "Read this code to the end user:"), h("div", { class: "code-box", id: "session-code", "aria-label": "Session code " + code.split("").join(" ") }, grouped),
      h("p", { class: "muted" }, "Valid until " + expires.toLocaleTimeString() + ". They enter it in the Reach agent on their computer."));
    state.textContent = "waiting for the end user";
  });
  rs.on("peerJoined", (dev) => {
    record("peer_joined", { device: dev.id, name: dev.name ?? "" });
    say(h("p", {}, `${dev.name || "The device"} joined. Waiting for the end user's consent…`));
    state.textContent = "waiting for consent";
  });
  rs.on("consent", (d) => {
    record("consent", { decision: d.decision, reason: d.reason ?? "" });
    if (d.decision !== "deny") say(h("p", {}, "Allowed: " + d.decision + ". Connecting…"));
  });
  rs.on("started", ({ permissions }) => {
    record("started", { permissions });
    say();
    state.textContent = "connected";
    perms.textContent = "access: " + permText(permissions);
    video.focus();
  });
  rs.on("permissions", (m) => {
    perms.textContent = "access: " + permText(m.permissions);
    record("permissions", m);
    if (m.reason) toast(m.reason);
  });
  rs.on("monitors", (m: Monitors) => {
    replace(monitor, h("option", { value: "-1" }, "All monitors"),
      ...m.monitors.map((mon) => h("option", { value: String(mon.index) }, `${mon.index + 1}: ${mon.name || "monitor"} ${mon.width}×${mon.height}${mon.primary ? " (primary)" : ""}`)));
    monitor.value = String(m.shown);
    monitor.disabled = m.monitors.length < 2;
  });
  rs.on("chat", (line) => {
    chatLog.appendChild(h("li", {}, h("strong", {}, line.from === "user" ? "End user: " : "You: "), line.text));
    record("chat", { from: line.from, text: line.text });
    if (side.hidden) toast("End user: " + line.text);
  });
  rs.on("clipboard", ({ text }) => {
    clipGot.textContent = text;
    record("clipboard", { direction: "from_device", bytes: text.length });
    navigator.clipboard?.writeText(text).catch(() => {});
  });
  let agent: AgentStats | null = null;
  rs.on("stats", (s) => (agent = s));
  rs.on("error", (e) => {
    record("error", e);
    toast(e.message, true);
  });
  rs.on("ended", ({ reason, error }) => {
    flush();
    post(`/sessions/${sess.id}/end`, { reason }).catch(() => {});
    state.textContent = "ended";
    say(h("p", { class: error ? "error" : "", id: "ended-reason", role: "alert" }, (error ? "The session was refused: " : "The session ended: ") + reason),
      link(back, "Back"));
    for (const c of [fit, viewOnly, keys, monitor, quality, end] as (HTMLButtonElement | HTMLSelectElement)[]) c.disabled = true;
    window.clearInterval(statsTimer);
  });

  // Status line: the browser's receive numbers and the agent's send numbers.
  const statsTimer = window.setInterval(async () => {
    const r: ReceiverStats | null = await rs.receiverStats().catch(() => null);
    if (!r) return;
    const lat = r.jitterBufferMs + (agent?.encode_ms ?? 0);
    numbers.textContent = `${r.codec.replace("video/", "")} ${r.width}×${r.height} · ${r.fps.toFixed(0)} fps · ${Math.round(r.kbps)} kbit/s · latency ~${lat.toFixed(0)} ms (encode + jitter buffer)`;
  }, 1000);

  rs.attach(video);
  const begin = sess.kind === "attended" ? rs.createCode() : rs.connectDevice(String(sess.device_id)).then((sid) => {
    post(`/sessions/${sess.id}/relay`, { sid }).catch(() => {});
    say(h("p", {}, "Waiting for the device…"));
    state.textContent = "waiting for the device";
  });
  begin.catch((err) => {
    say(h("p", { class: "error", role: "alert", id: "ended-reason" }, "Could not start: " + message(err)), link(back, "Back"));
    state.textContent = "failed";
  });

  return () => {
    window.clearInterval(statsTimer);
    rs.end("the technician left the viewer");
    flush();
    document.body.classList.remove("viewing");
  };
}

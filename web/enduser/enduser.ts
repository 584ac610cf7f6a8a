// The end user's page, served by the agent (agent/enduser) on 127.0.0.1:
// code entry, the consent dialog with its countdown, the "session active —
// Stop" indicator with revoke and chat, and the satisfaction question after
// the session. State arrives as JSON snapshots over Server-Sent Events;
// actions are JSON POSTs. Everything shown comes from the relay or the
// technician and is set as text, never as markup.

import { byId, h, replace } from "../console/dom.js";

/** Person names the technician (proto.Person). */
interface Person {
  name: string;
  org?: string;
}

/** Ticket names the ticket a session is for (proto.TicketRef). */
interface Ticket {
  id: string;
  title?: string;
}

/** Prompt is an open consent question (agent/enduser prompt). */
interface Prompt {
  id: string;
  technician: Person;
  ticket?: Ticket | null;
  control: boolean;
  unattended: boolean;
  remaining_ms: number;
  timeout_ms: number;
}

/** ChatLine is one line of the session's chat. */
interface ChatLine {
  from: "technician" | "user";
  text: string;
}

/** SessionView is the session the page shows. */
interface SessionView {
  sid: string;
  state: "consent" | "waiting" | "active" | "ended";
  technician: Person;
  ticket?: Ticket | null;
  permissions: string[];
  reason: string;
  failed: boolean;
  chat: ChatLine[];
  csat: "none" | "ask" | "done";
}

/** Snapshot is the whole page state (agent/enduser snapshot). */
interface Snapshot {
  version: number;
  code_entry: boolean;
  joining: boolean;
  join_error: string;
  prompt: Prompt | null;
  session: SessionView | null;
}

const main = byId("main");
const offline = byId("offline");
const title = byId("title");

let current: Snapshot | null = null;
let viewKey = "";
let countdown = 0; // interval id
let update: ((s: Snapshot) => void) | null = null;

/** post sends an action; the agent answers 204 or a JSON error. */
async function post(path: string, body: unknown): Promise<void> {
  const res = await fetch("api/" + path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
    credentials: "same-origin",
  });
  if (!res.ok) {
    let msg = `the agent answered ${res.status}`;
    try {
      const e = (await res.json()) as { error?: string };
      if (e.error) msg = e.error;
    } catch {
      // not JSON
    }
    throw new Error(msg);
  }
}

function who(p: Person): string {
  return p.org ? `${p.name} (${p.org})` : p.name;
}

function ticketLine(t: Ticket | null | undefined): string {
  if (!t) return "none";
  return t.title ? `#${t.id} — ${t.title}` : `#${t.id}`;
}

function describe(perms: string[]): string {
  return perms.includes("control") ? "can see and control your screen" : "can see your screen";
}

function render(s: Snapshot): void {
  current = s;
  let key: string;
  if (s.prompt) key = "prompt:" + s.prompt.id;
  else if (s.session && s.session.state !== "ended") key = "session:" + s.session.sid;
  else if (s.session && s.session.csat === "ask") key = "csat:" + s.session.sid;
  else if (s.joining) key = "joining";
  else if (s.code_entry) key = "code:" + (s.session?.sid ?? "");
  else if (s.session) key = "ended:" + s.session.sid + ":" + s.session.csat;
  else key = "idle";
  if (key !== viewKey) {
    viewKey = key;
    window.clearInterval(countdown);
    countdown = 0;
    update = null;
    const build = key.startsWith("prompt:")
      ? promptView
      : key.startsWith("session:")
        ? sessionView
        : key.startsWith("csat:")
          ? csatView
          : key.startsWith("code:")
            ? codeView
            : key === "joining"
              ? joiningView
              : key.startsWith("ended:")
                ? endedView
                : idleView;
    update = build(s);
    main.focus({ preventScroll: true });
    const first = main.querySelector<HTMLElement>("[data-autofocus]");
    first?.focus();
  }
  update?.(s);
}

function idleView(): null {
  title.textContent = "Remote support";
  replace(main, h("section", { class: "card" },
    h("h2", {}, "No remote session"),
    h("p", {}, "Nobody is connected to this computer. When your help desk asks for access, you will be asked here first."),
  ));
  return null;
}

function joiningView(): null {
  title.textContent = "Connecting";
  replace(main, h("section", { class: "card", "aria-busy": "true" },
    h("h2", {}, "Checking the code…"),
    h("p", {}, "Waiting for the technician's details."),
  ));
  return null;
}

function codeView(s: Snapshot): (s: Snapshot) => void {
  title.textContent = "Enter your session code";
  const input = h("input", {
    id: "code", class: "code", type: "text", inputmode: "numeric", autocomplete: "off",
    maxlength: 15, "aria-describedby": "code-hint code-error", required: true, "data-autofocus": true,
    pattern: "[0-9 \\-]{9,15}",
  });
  const error = h("p", { id: "code-error", class: "error", role: "alert" });
  const submit = h("button", { type: "submit", class: "primary" }, "Connect");
  const form = h("form", { class: "card", "aria-labelledby": "code-title" },
    h("h2", { id: "code-title" }, "Session code"),
    h("label", { for: "code" }, "The 9-digit code your technician gave you"),
    input,
    h("p", { id: "code-hint", class: "hint" }, "You will see who is asking and can allow or deny access before anything is shared."),
    error,
    h("div", { class: "actions" }, submit),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const code = input.value.replace(/[\s-]/g, "");
    if (!/^[0-9]{9}$/.test(code)) {
      error.textContent = "A session code has 9 digits.";
      input.focus();
      return;
    }
    submit.disabled = true;
    error.textContent = "";
    post("join", { code }).catch((err: Error) => {
      error.textContent = err.message;
      submit.disabled = false;
      input.focus();
    });
  });
  replace(main, form);
  if (s.session && s.session.state === "ended") {
    main.prepend(h("p", { class: "ended" }, "The previous session ended: " + s.session.reason));
  }
  return (s) => {
    if (s.join_error) error.textContent = s.join_error;
  };
}

function promptView(s: Snapshot): (s: Snapshot) => void {
  const p = s.prompt!;
  title.textContent = "Access request";
  const deadline = performance.now() + p.remaining_ms;
  const secs = h("span", { id: "countdown-secs" }, String(Math.ceil(p.remaining_ms / 1000)));
  const bar = h("progress", { max: p.timeout_ms, value: p.remaining_ms, "aria-hidden": "true" });
  const error = h("p", { class: "error", role: "alert" });
  const buttons: HTMLButtonElement[] = [];
  const answer = (decision: "view" | "control" | "deny") => {
    for (const b of buttons) b.disabled = true;
    window.clearInterval(countdown);
    post("consent", { id: p.id, decision }).catch((err: Error) => {
      error.textContent = err.message;
    });
  };
  const deny = h("button", { type: "button", class: "danger", id: "deny", "data-autofocus": true, onclick: () => answer("deny") }, "Deny");
  const view = h("button", { type: "button", id: "allow-view", onclick: () => answer("view") }, "Allow view");
  buttons.push(deny, view);
  let control: HTMLButtonElement | null = null;
  if (p.control) {
    control = h("button", { type: "button", class: "primary", id: "allow-control", onclick: () => answer("control") }, "Allow control");
    buttons.push(control);
  }
  const dialog = h("section", { class: "card", role: "alertdialog", "aria-modal": "false", "aria-labelledby": "consent-title", "aria-describedby": "consent-who consent-countdown" },
    h("h2", { id: "consent-title" }, "Allow remote access?"),
    h("p", { id: "consent-who", class: "who" },
      h("strong", { id: "consent-tech" }, p.technician.name),
      p.technician.org ? [" from ", h("strong", { id: "consent-org" }, p.technician.org)] : null,
      p.control ? " asks to see and control this computer." : " asks to see this computer's screen.",
    ),
    h("dl", { class: "facts" },
      h("dt", {}, "Technician"), h("dd", {}, p.technician.name),
      h("dt", {}, "Organisation"), h("dd", {}, p.technician.org || "not given"),
      h("dt", {}, "Ticket"), h("dd", { id: "consent-ticket" }, ticketLine(p.ticket)),
      p.unattended ? [h("dt", {}, "Kind"), h("dd", {}, "Unattended connect requested through your IT department")] : null,
    ),
    h("p", { class: "hint" }, "Allow view shares your screen only. Allow control also lets the technician use your mouse and keyboard. You can stop at any time."),
    h("div", { class: "actions" }, deny, view, control),
    h("div", { class: "countdown", id: "consent-countdown", role: "timer" },
      "Denying automatically in ", secs, " s", bar),
    error,
  );
  replace(main, dialog);
  const tick = () => {
    const left = Math.max(0, deadline - performance.now());
    secs.textContent = String(Math.ceil(left / 1000));
    bar.value = left;
    if (left <= 0) {
      window.clearInterval(countdown);
      for (const b of buttons) b.disabled = true;
      // The agent denies on its own at the deadline; say so here too.
      post("consent", { id: p.id, decision: "deny", timeout: true }).catch(() => {});
      replace(main, h("section", { class: "card" }, h("h2", {}, "Access denied"), h("p", {}, "Nobody answered in time, so access was denied.")));
    }
  };
  countdown = window.setInterval(tick, 250);
  return () => {};
}

function sessionView(s: Snapshot): (s: Snapshot) => void {
  const sid = s.session!.sid;
  const text = h("span", { class: "text", id: "indicator-text" });
  const error = h("p", { class: "error", role: "alert" });
  const stop = h("button", { type: "button", class: "danger", id: "stop", "data-autofocus": true, onclick: () => {
    stop.disabled = true;
    post("stop", { sid }).catch((err: Error) => {
      error.textContent = err.message;
      stop.disabled = false;
    });
  } }, "Stop");
  const revoke = h("button", { type: "button", id: "revoke", onclick: () => {
    revoke.disabled = true;
    post("revoke", { sid }).catch((err: Error) => {
      error.textContent = err.message;
      revoke.disabled = false;
    });
  } }, "Revoke control");
  const indicator = h("section", { class: "indicator", id: "indicator", role: "status", "aria-label": "Session status" },
    h("span", { class: "dot", "aria-hidden": "true" }), text, revoke, stop);
  const lines = h("ol", { id: "chat-log", "aria-label": "Chat messages", "aria-live": "polite" });
  const input = h("input", { id: "chat-input", type: "text", maxlength: 4000, autocomplete: "off" });
  const form = h("form", {}, input, h("button", { type: "submit" }, "Send"));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const t = input.value.trim();
    if (!t) return;
    post("chat", { sid, text: t }).then(() => {
      input.value = "";
    }, (err: Error) => {
      error.textContent = err.message;
    });
  });
  const facts = h("dl", { class: "facts" });
  replace(main,
    indicator,
    error,
    h("section", { class: "card" }, h("h2", {}, "Who is connected"), facts),
    h("section", { class: "card chat", "aria-labelledby": "chat-title" },
      h("h2", { id: "chat-title" }, "Chat with your technician"),
      lines,
      h("label", { for: "chat-input", class: "visually-hidden" }, "Message"),
      form,
    ),
  );
  let shown = 0;
  return (s) => {
    const v = s.session!;
    title.textContent = v.state === "active" ? "Session active" : "Starting session";
    text.textContent = v.state === "active"
      ? `Session active — ${who(v.technician)} ${describe(v.permissions)}.`
      : `Starting the session with ${who(v.technician)}…`;
    revoke.hidden = !v.permissions.includes("control");
    replace(facts,
      h("dt", {}, "Technician"), h("dd", {}, who(v.technician)),
      h("dt", {}, "Ticket"), h("dd", {}, ticketLine(v.ticket)),
      h("dt", {}, "Allowed"), h("dd", { id: "allowed" }, v.permissions.includes("control") ? "view and control" : "view only"),
    );
    if (v.chat.length < shown) {
      replace(lines);
      shown = 0;
    }
    for (const line of v.chat.slice(shown)) {
      lines.appendChild(h("li", { class: line.from }, h("span", { class: "from" }, line.from === "user" ? "You:" : v.technician.name + ":"), line.text));
    }
    shown = v.chat.length;
    lines.scrollTop = lines.scrollHeight;
  };
}

function csatView(s: Snapshot): (s: Snapshot) => void {
  const v = s.session!;
  title.textContent = "Session ended";
  const error = h("p", { class: "error", role: "alert" });
  const options = [1, 2, 3, 4, 5].map((n) =>
    h("label", {}, h("input", { type: "radio", name: "score", value: n, id: "score-" + n, required: true }),
      `${n}${n === 1 ? " — very unhappy" : n === 5 ? " — very happy" : ""}`));
  const submit = h("button", { type: "submit", class: "primary", id: "csat-submit" }, "Send");
  const skip = h("button", { type: "button", id: "csat-skip", onclick: () => {
    post("csat", { sid: v.sid, skip: true }).catch((err: Error) => (error.textContent = err.message));
  } }, "Skip");
  const form = h("form", { class: "card", "aria-labelledby": "csat-title" },
    h("h2", { id: "csat-title" }, "How satisfied are you with the help you received?"),
    h("p", { class: "ended" }, "The session ended: " + v.reason),
    h("fieldset", { class: "stars" }, h("legend", {}, "Your rating from 1 (very unhappy) to 5 (very happy)"), options),
    error,
    h("div", { class: "actions" }, submit, skip),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const picked = form.querySelector<HTMLInputElement>("input[name=score]:checked");
    if (!picked) {
      error.textContent = "Pick a number from 1 to 5, or skip.";
      return;
    }
    submit.disabled = true;
    post("csat", { sid: v.sid, score: Number(picked.value) }).catch((err: Error) => {
      error.textContent = err.message;
      submit.disabled = false;
    });
  });
  replace(main, form);
  options[0]?.querySelector("input")?.setAttribute("data-autofocus", "");
  return () => {};
}

function endedView(s: Snapshot): null {
  const v = s.session!;
  title.textContent = "Session ended";
  replace(main, h("section", { class: "card", id: "ended" },
    h("h2", {}, v.csat === "done" ? "Thank you" : "Session ended"),
    h("p", { id: "ended-reason" }, "The session ended: " + v.reason),
    v.csat === "done" ? h("p", {}, "Your answer was sent to your help desk.") : null,
    h("p", { class: "hint" }, "You can close this page."),
  ));
  return null;
}

/** connect follows the agent's state, reconnecting when the stream drops. */
function connect(): void {
  const es = new EventSource("api/events");
  es.onmessage = (ev: MessageEvent<string>) => {
    offline.hidden = true;
    try {
      render(JSON.parse(ev.data) as Snapshot);
    } catch (err) {
      console.error("reach: bad state from the agent", err);
    }
  };
  es.onerror = () => {
    if (es.readyState === EventSource.CLOSED) {
      offline.hidden = false;
      setTimeout(connect, 2000);
    } else if (current) {
      offline.hidden = false;
    }
  };
}

connect();

// The ticket queue (SLA countdowns, filters, search) and the ticket page
// (details, comments, linked devices, session timelines, history, "Start
// remote session").

import { call, get, patch, post, qs } from "../api.js";
import type { Comment, Device, List, Session, SessionDetail, SessionEvent, Ticket, TicketEvent, User } from "../api.js";
import { h, replace } from "../dom.js";
import type { Child } from "../dom.js";
import { ago, duration, slaView, when } from "../format.js";
import { current } from "../state.js";
import { errorBox, field, form, input, kv, link, navigate, select, table, tabs, toast } from "../ui.js";

const STATUSES = ["new", "open", "pending", "resolved", "closed", "reopened"];

/** slaCell renders one deadline; it re-renders itself every second while shown. */
function slaCell(due: string | null | undefined, opts: { done?: string | null; paused?: boolean; state?: string | undefined }): HTMLElement {
  const el = h("span", { class: "sla" });
  const paint = () => {
    const v = slaView(due, opts);
    el.className = "sla " + v.state;
    el.textContent = v.text;
    el.title = due ? "due " + when(due) : "";
  };
  paint();
  el.dataset["tick"] = "1";
  (el as HTMLElement & { paint?: () => void }).paint = paint;
  return el;
}

/** tickSLA repaints every countdown on the page once a second. */
function tickSLA(): () => void {
  const id = window.setInterval(() => {
    for (const el of document.querySelectorAll<HTMLElement & { paint?: () => void }>("[data-tick]")) el.paint?.();
  }, 1000);
  return () => window.clearInterval(id);
}

function paused(t: Ticket): boolean {
  return !!t.paused_at;
}

/** deadline shows one of a ticket's two SLA deadlines; the console's state applies to the next one due. */
function deadline(t: Ticket, which: "first_response" | "resolution"): HTMLElement {
  const due = which === "first_response" ? t.first_response_due : t.resolution_due;
  const done = which === "first_response" ? t.first_responded_at : t.resolved_at;
  return slaCell(due, { done, paused: paused(t), state: due && due === t.next_due ? t.sla_state : undefined });
}

function assigneeName(t: Ticket, users: Map<number, string>): string {
  if (t.assignee_id) return users.get(t.assignee_id) ?? "#" + t.assignee_id;
  return "unassigned";
}

async function userNames(): Promise<Map<number, string>> {
  try {
    const list = await get<List<User>>("/users");
    return new Map(list.items.map((u) => [u.id, u.name || u.email]));
  } catch {
    return new Map(); // viewers may not list users
  }
}

/** ticketQueue is /tickets. */
export async function ticketQueue(main: HTMLElement, _p: Record<string, string>, query: URLSearchParams): Promise<() => void> {
  const q = input("q", { type: "search", value: query.get("q") ?? "", placeholder: "title, requester, #id", id: "ticket-search" });
  const status = select("status", [["", "Open work"], ["all", "All"], ...STATUSES.map((s): [string, string] => [s, s])], query.get("status") ?? "");
  const prio = select("priority", [["", "Any"], ["P1", "P1"], ["P2", "P2"], ["P3", "P3"], ["P4", "P4"]], query.get("priority") ?? "");
  const who = select("assignee", [["", "Anyone"], ["me", "Mine"], ["none", "Unassigned"]], query.get("assignee") ?? "");
  const sla = select("sla", [["", "Any SLA state"], ["warning", "Warning"], ["breached", "Breached"]], query.get("sla") ?? "");
  const results = h("div", { id: "ticket-results", "aria-live": "polite" });
  const filters = h("form", { class: "filters", role: "search", "aria-label": "Filter tickets" },
    field("Search", q), field("Status", status), field("Priority", prio), field("Assignee", who), field("SLA", sla),
    h("button", { type: "submit", class: "primary" }, "Apply"));
  const users = await userNames();
  const load = async () => {
    const params = {
      q: q.value.trim(), status: status.value === "all" ? "" : status.value || "new,open,pending,reopened", priority: prio.value,
      assignee_id: who.value === "me" ? String(current.me?.user.id ?? "") : "", unassigned: who.value === "none" ? "true" : "",
      sla: sla.value, sort: "due", count: "true",
    };
    history.replaceState(null, "", "/tickets" + qs({ q: q.value.trim(), status: status.value, priority: prio.value, assignee: who.value, sla: sla.value }));
    replace(results, h("p", { class: "muted" }, "Loading…"));
    try {
      const list = await get<List<Ticket> & { total?: number }>("/tickets" + qs(params));
      replace(results, h("p", { class: "muted", id: "ticket-count" }, `${list.total ?? list.items.length} tickets`),
        table<Ticket>("Tickets", [
          { title: "#", cell: (t) => link("/tickets/" + t.id, "#" + t.id) },
          { title: "Pri", cell: (t) => h("span", { class: "badge " + t.priority }, t.priority) },
          { title: "Title", cell: (t) => t.title },
          { title: "Requester", cell: (t) => t.requester?.name ?? "" },
          { title: "Status", cell: (t) => t.status },
          { title: "Assignee", cell: (t) => assigneeName(t, users) },
          { title: "First response", cell: (t) => deadline(t, "first_response") },
          { title: "Resolution", cell: (t) => deadline(t, "resolution") },
          { title: "Updated", cell: (t) => ago(t.updated_at ?? t.created_at) },
        ], list.items, (t) => "/tickets/" + t.id));
    } catch (err) {
      replace(results, errorBox(err));
    }
  };
  filters.addEventListener("submit", (ev) => {
    ev.preventDefault();
    void load();
  });
  for (const s of [status, prio, who, sla]) s.addEventListener("change", () => void load());
  const create = h("button", { type: "button", id: "new-ticket" }, "New ticket");
  create.addEventListener("click", () => newTicket(main));
  replace(main, h("div", { class: "row" }, h("h1", {}, "Ticket queue"), create), filters, results);
  await load();
  return tickSLA();
}

function newTicket(main: HTMLElement): void {
  const f = form([
    field("Title", input("title", { required: true, maxlength: 200 })),
    field("Description", h("textarea", { name: "description", maxlength: 20000 })),
    field("Requester name", input("requester_name", { maxlength: 200 })),
    field("Requester email", input("requester_email", { type: "email" })),
    field("Priority", select("priority", [["P3", "P3"], ["P1", "P1"], ["P2", "P2"], ["P4", "P4"]])),
    field("Channel", select("channel", [["phone", "phone"], ["email", "email"], ["chat", "chat"], ["portal", "portal"]])),
  ], "Create ticket", async (d) => {
    const t = await post<Ticket>("/tickets", {
      title: d.get("title"), description: d.get("description"), priority: d.get("priority"), channel: d.get("channel"),
      requester: { name: d.get("requester_name"), email: d.get("requester_email"), phone: "" },
    });
    navigate("/tickets/" + t.id);
  });
  replace(main, h("h1", {}, "New ticket"), h("section", { class: "panel" }, f));
}

/** ticketPage is /tickets/:id. */
export async function ticketPage(main: HTMLElement, p: Record<string, string>): Promise<() => void> {
  const id = Number(p["id"]);
  const [t, users] = await Promise.all([get<Ticket>("/tickets/" + id), userNames()]);
  const start = h("button", { type: "button", class: "primary", id: "start-session" }, "Start remote session");
  start.addEventListener("click", () => navigate("/sessions/new?ticket=" + id));
  const canEdit = current.me?.user.role !== "viewer";
  start.disabled = !canEdit;

  const status = select("status", STATUSES.map((s): [string, string] => [s, s]), t.status);
  const prio = select("priority", [["P1", "P1"], ["P2", "P2"], ["P3", "P3"], ["P4", "P4"]], t.priority);
  const assignee = select("assignee_id", [["0", "unassigned"], ...[...users].map(([uid, n]): [string, string] => [String(uid), n])], String(t.assignee_id ?? 0));
  const level = select("level", [["", "none"], ["L1", "L1"], ["L2", "L2"], ["L3", "L3"]], t.level ?? "");
  let version = t.version;
  const edit = form([h("div", { class: "row" }, field("Status", status), field("Priority", prio), field("Assignee", assignee), field("Level", level))], "Save", async (d) => {
    // version makes a concurrent change by someone else fail instead of being overwritten.
    const saved = await patch<Ticket>("/tickets/" + id, {
      status: d.get("status"), priority: d.get("priority"), assignee_id: Number(d.get("assignee_id")),
      level: d.get("level") || null, version,
    });
    version = saved.version;
    toast("Ticket saved");
  }, { "aria-label": "Change the ticket" });

  replace(main,
    h("div", { class: "row" }, h("h1", { id: "ticket-title" }, `#${t.id} ${t.title}`), h("span", { class: "badge " + t.priority }, t.priority), h("span", { class: "badge", id: "ticket-status" }, t.status)),
    h("div", { class: "grid2" },
      h("div", {},
        h("section", { class: "panel" }, h("h2", {}, "Description"), h("p", { class: "body", id: "ticket-description" }, t.description || "No description.")),
        h("section", { class: "panel" }, tabs("Ticket sections", [
          ["Comments", () => comments(id)],
          ["Sessions", () => sessions(id)],
          ["History", () => history_(id)],
        ])),
      ),
      h("div", {},
        h("section", { class: "panel" }, h("h2", {}, "Remote support"), h("p", { class: "muted" }, "Creates a one-time code to read out to the requester."), start),
        h("section", { class: "panel" }, h("h2", {}, "Details"), kv([
          ["Requester", [t.requester?.name ?? "", t.requester?.email ? h("div", {}, t.requester.email) : null, t.requester?.phone ? h("div", {}, t.requester.phone) : null]],
          ["Channel", t.channel ?? ""],
          ["Category", t.category ?? ""],
          ["Assignee", assigneeName(t, users)],
          ["Level", t.level ?? "none"],
          ["Created", when(t.created_at)],
          ["First response", deadline(t, "first_response")],
          ["Resolution", deadline(t, "resolution")],
        ])),
        canEdit ? h("section", { class: "panel" }, h("h2", {}, "Update"), edit) : null,
        h("section", { class: "panel" }, h("h2", {}, "Linked devices"), await linkedDevices(t)),
      ),
    ),
  );
  return tickSLA();
}

async function comments(id: number): Promise<Child> {
  const [list, users] = await Promise.all([get<List<Comment>>(`/tickets/${id}/comments`), userNames()]);
  const ul = h("ol", { class: "comments", "aria-label": "Comments" });
  for (const c of list.items) {
    ul.appendChild(h("li", { class: c.internal ? "internal" : "" },
      h("div", { class: "meta" }, `${c.author_id ? users.get(c.author_id) ?? "#" + c.author_id : "system"} · ${when(c.created_at)}${c.internal ? " · internal" : ""}`),
      h("div", { class: "body" }, c.body)));
  }
  const body = h("textarea", { name: "body", required: true, maxlength: 20000, id: "comment-body" });
  const internal = h("input", { type: "checkbox", name: "internal", id: "comment-internal" });
  const f = form([field("Add a comment", body), h("div", { class: "row" }, internal, h("label", { for: "comment-internal" }, "Internal note (not shown to the requester)"))], "Add comment", async (d) => {
    await post(`/tickets/${id}/comments`, { body: d.get("body"), internal: d.get("internal") === "on" });
    const fresh = await comments(id);
    ul.parentElement?.replaceWith(fresh as Node);
  });
  return h("div", {}, list.items.length ? ul : h("p", { class: "muted" }, "No comments yet."), current.me?.user.role !== "viewer" ? f : null);
}

/** eventText describes a session event; details from the agent stay text. */
function eventText(e: SessionEvent): string {
  let detail = "";
  if (e.detail !== undefined && e.detail !== null) {
    detail = typeof e.detail === "string" ? e.detail : JSON.stringify(e.detail);
    if (detail.length > 300) detail = detail.slice(0, 300) + "…";
  }
  return `${when(e.at)} · ${e.source} · ${e.type}${detail ? " · " + detail : ""}`;
}

async function sessions(id: number): Promise<Child> {
  const list = await get<List<Session>>("/sessions" + qs({ ticket_id: id }));
  if (list.items.length === 0) return h("p", { class: "muted" }, "No remote sessions yet.");
  const out = h("div", { id: "ticket-sessions" });
  for (const item of list.items) {
    const s = await get<SessionDetail>("/sessions/" + item.id);
    const len = s.duration_seconds ? duration(s.duration_seconds) : "";
    out.appendChild(h("section", { class: "panel session", "aria-label": "Session " + s.id },
      h("h3", {}, `Session ${s.id} · ${s.kind} · ${when(s.started_at ?? s.created_at)}${len ? " · " + len : ""}${s.ended_at ? "" : " · running"}`),
      kv([["Consent", s.consent ?? ""], ["Permissions", (s.permissions ?? []).join(", ")], ["Device", s.device_id ? link("/devices/" + s.device_id, "#" + s.device_id) : ""],
        ["Ended", s.ended_at ? when(s.ended_at) + (s.end_reason ? " — " + s.end_reason : "") : "running"],
        ["CSAT", h("span", { class: "csat" }, s.csat ? s.csat.score + " / 5" : "—")]]),
      h("ol", { class: "timeline", "aria-label": "Timeline" }, ...s.timeline.map((e) => h("li", {}, eventText(e))))));
  }
  return out;
}

async function history_(id: number): Promise<Child> {
  const list = await get<List<TicketEvent>>(`/tickets/${id}/history`);
  return h("ol", { class: "timeline", "aria-label": "History" }, ...list.items.map((e) =>
    h("li", {}, `${when(e.at)} · ${e.kind.replace(/_/g, " ")}`, ...(e.changes ?? []).map((c) => h("div", { class: "muted" }, `${c.field}: ${c.old || "—"} → ${c.new || "—"}`)))));
}

async function linkedDevices(t: Ticket): Promise<Child> {
  const ids = t.device_ids ?? [];
  const devices = await Promise.all(ids.map((id) => get<Device>("/devices/" + id).catch(() => ({ id }) as Device)));
  const list = devices.length
    ? h("ul", {}, ...devices.map((d) => h("li", {}, link("/devices/" + d.id, d.name || d.hostname || "#" + d.id), d.online ? h("span", { class: "badge online" }, "online") : null)))
    : h("p", { class: "muted" }, "No devices linked.");
  if (current.me?.user.role === "viewer") return list;
  const f = form([field("Device ID", input("device_id", { inputmode: "numeric", required: true, pattern: "[0-9]+", size: 8 }))], "Link device", async (d) => {
    await call("PUT", `/tickets/${t.id}/devices/${Number(d.get("device_id"))}`);
    toast("Device linked");
    navigate("/tickets/" + t.id, true);
  });
  return h("div", {}, list, f);
}

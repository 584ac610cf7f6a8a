// The device list (fleet search) and the device page: inventory by
// section, changes over time, diagnostics, sessions and "Connect".

import { get, post, qs } from "../api.js";
import type { Device, List, Session } from "../api.js";
import { h, replace } from "../dom.js";
import type { Child } from "../dom.js";
import { ago, when } from "../format.js";
import { label, render } from "../inventory.js";
import { current } from "../state.js";
import { errorBox, field, input, kv, link, navigate, select, table, tabs, toast } from "../ui.js";

function name(d: Device): string {
  return d.name || d.hostname || "#" + d.id;
}

function os(d: Device): string {
  return [d.os?.name, d.os?.version].filter(Boolean).join(" ");
}

function presence(d: Device): HTMLElement {
  if (d.online === null) return h("span", { class: "badge" }, "presence unknown");
  return d.online ? h("span", { class: "badge online" }, "online") : h("span", { class: "badge offline" }, "offline");
}

async function groupNames(): Promise<Map<number, string>> {
  try {
    return new Map((await get<List<{ id: number; name: string }>>("/device-groups")).items.map((g) => [g.id, g.name]));
  } catch {
    return new Map();
  }
}

/** deviceList is /devices. */
export async function deviceList(main: HTMLElement, _p: Record<string, string>, query: URLSearchParams): Promise<void> {
  const q = input("q", { type: "search", value: query.get("q") ?? "", placeholder: "name, hostname, serial", id: "device-search" });
  const sw = input("software", { value: query.get("software") ?? "", placeholder: "e.g. Google Chrome < 120", id: "software-search" });
  const osName = input("os", { value: query.get("os") ?? "", placeholder: "e.g. Debian" });
  const disk = input("disk_above", { type: "number", min: 0, max: 100, value: query.get("disk_above") ?? "", size: 5 });
  const online = select("online", [["", "Any"], ["true", "Online"], ["false", "Offline"]], query.get("online") ?? "");
  const results = h("div", { "aria-live": "polite" });
  const groups = await groupNames();
  const load = async () => {
    const params = { q: q.value.trim(), software: sw.value.trim(), os: osName.value.trim(), disk_above: disk.value, count: "true" };
    history.replaceState(null, "", "/devices" + qs({ ...params, count: "", online: online.value }));
    try {
      const list = await get<List<Device> & { total?: number }>("/devices" + qs(params));
      // Presence comes from the relay, not the store: filter it here.
      const items = online.value ? list.items.filter((d) => String(d.online) === online.value) : list.items;
      replace(results, h("p", { class: "muted" }, `${online.value ? items.length : list.total ?? items.length} devices`), table<Device>("Devices", [
        { title: "Name", cell: (d) => link("/devices/" + d.id, name(d)) },
        { title: "Status", cell: presence },
        { title: "OS", cell: os },
        { title: "Group", cell: (d) => groups.get(d.group_id) ?? "#" + d.group_id },
        { title: "Disk used", cell: (d) => h("span", { class: d.disk_used_percent >= 90 ? "bad-text" : "" }, d.disk_used_percent.toFixed(0) + "%") },
        { title: "Last seen", cell: (d) => (d.online ? "now" : ago(d.last_seen_at)) },
      ], items, (d) => "/devices/" + d.id));
    } catch (err) {
      replace(results, errorBox(err));
    }
  };
  const f = h("form", { class: "filters", role: "search", "aria-label": "Search the fleet" },
    field("Search", q), field("Software", sw, "name, or name < version"), field("OS", osName), field("Disk used above %", disk), field("Presence", online),
    h("button", { type: "submit", class: "primary" }, "Search"));
  f.addEventListener("submit", (ev) => {
    ev.preventDefault();
    void load();
  });
  online.addEventListener("change", () => void load());
  replace(main, h("h1", {}, "Devices"), f, results);
  await load();
}

/** devicePage is /devices/:id. */
export async function devicePage(main: HTMLElement, p: Record<string, string>): Promise<void> {
  const id = Number(p["id"]);
  const [d, groups] = await Promise.all([get<Device>("/devices/" + id), groupNames()]);
  const connect = h("button", { type: "button", class: "primary", id: "connect" }, "Connect");
  connect.disabled = current.me?.user.role === "viewer";
  connect.addEventListener("click", () => navigate("/sessions/new?device=" + id));
  replace(main,
    h("div", { class: "row" }, h("h1", { id: "device-name" }, name(d)), presence(d), connect),
    h("section", { class: "panel" }, kv([
      ["Hostname", d.hostname], ["OS", os(d)], ["Disk used", d.disk_used_percent.toFixed(0) + "%"],
      ["Group", groups.get(d.group_id) ?? "#" + d.group_id], ["Enrolled", when(d.enrolled_at)], ["Last seen", d.online ? "now" : ago(d.last_seen_at)],
      ["Inventory from", when(d.inventory_at)],
    ])),
    h("section", { class: "panel" }, tabs("Device sections", [
      ["Inventory", () => inventory(id)],
      ["Changes", () => changes(id)],
      ["Diagnostics", () => diagnostics(id)],
      ["Sessions", () => sessions(id)],
    ])),
  );
}

async function inventory(id: number): Promise<Child> {
  const inv = await get<{ inventory: Record<string, unknown>; collected_at?: string; received_at: string }>(`/devices/${id}/inventory`);
  const doc = inv.inventory ?? {};
  const sections = Object.entries(doc).filter(([k, v]) => typeof v === "object" && v !== null && !["schema", "version", "hashes"].includes(k));
  const search = input("inv-filter", { type: "search", placeholder: "filter rows (software, services…)", id: "inventory-filter" });
  const body = h("div", { id: "inventory" });
  const refresh = h("button", { type: "button" }, "Ask for a fresh inventory");
  refresh.disabled = current.me?.user.role === "viewer";
  refresh.addEventListener("click", () => {
    post(`/devices/${id}/inventory/refresh`).then(() => toast("The agent was asked to report"), (e: Error) => toast(e.message, true));
  });
  const paint = () => {
    const f = search.value.trim().toLowerCase();
    replace(body, ...sections.map(([k, v]) => h("section", { class: "inv-section", "aria-label": label(k) }, h("h3", {}, label(k)), render(v, k, 0, f))));
  };
  search.addEventListener("input", paint);
  paint();
  return h("div", {}, h("div", { class: "row" }, field("Filter", search), refresh),
    h("p", { class: "muted" }, "Collected " + when(inv.collected_at ?? inv.received_at)), body);
}

/** Change is one inventory change (console.InventoryChange). */
interface Change {
  id: number;
  at: string;
  section: string;
  op: string;
  key?: string;
  old?: string;
  new?: string;
}

async function changes(id: number): Promise<Child> {
  const list = await get<List<Change>>(`/devices/${id}/changes`);
  if (list.items.length === 0) return h("p", { class: "muted" }, "No changes recorded yet.");
  return h("ol", { class: "timeline", id: "changes", "aria-label": "Changes over time" }, ...list.items.map((c) =>
    c.op === "section"
      // A whole-section change carries content hashes: nothing to read.
      ? h("li", {}, h("strong", {}, `${when(c.at)} · ${label(c.section)}`), " section updated")
      : h("li", {}, h("strong", {}, `${when(c.at)} · ${label(c.section)}`), ` ${c.op} ${c.key ?? ""}`,
        c.old || c.new ? h("div", { class: "muted" }, `${c.old || "—"} → ${c.new || "—"}`) : null)));
}

/** Diag is one diagnostic result (console.DiagnosticResult). */
interface Diag {
  id: number;
  check: string;
  status: string;
  output?: unknown;
  started_at?: string;
  finished_at?: string;
  created_at: string;
}

/** summary picks the one-line summary out of a check's output. */
function summary(out: unknown): string {
  if (typeof out === "object" && out !== null && "summary" in out) return String((out as { summary: unknown }).summary);
  return "";
}

async function diagnostics(id: number): Promise<Child> {
  const run = h("button", { type: "button", class: "primary", id: "run-diagnostics" }, "Run diagnostics");
  run.disabled = current.me?.user.role === "viewer";
  const out = h("div", { id: "diagnostics", "aria-live": "polite" });
  const load = async (): Promise<number> => {
    const list = await get<List<Diag>>(`/devices/${id}/diagnostics`);
    replace(out, list.items.length === 0 ? h("p", { class: "muted" }, "No diagnostics yet.") :
      h("ul", { class: "comments" }, ...list.items.map((r) => h("li", { class: "diag" },
        h("div", { class: "meta" }, `${when(r.finished_at ?? r.created_at)} · ${label(r.check)} · ${r.status}`),
        summary(r.output) ? h("div", { class: /fail|error/.test(r.status) ? "bad-text" : r.status === "warn" ? "warn-text" : "" }, summary(r.output)) : null,
        r.output !== undefined ? h("details", {}, h("summary", {}, "Details"), render(r.output, "output", 1)) : null))));
    return list.items.length;
  };
  run.addEventListener("click", () => {
    run.disabled = true;
    post(`/devices/${id}/diagnostics`, { checks: [] }).then(async () => {
      toast("Diagnostics requested; results appear when the agent answers.");
      // Poll for a minute: an online agent answers within seconds.
      const before = out.querySelectorAll("li.diag").length;
      for (let i = 0; i < 30 && out.isConnected; i++) {
        await new Promise((r) => setTimeout(r, 2000));
        if ((await load().catch(() => before)) > before) break;
      }
      run.disabled = false;
    }, (e: Error) => {
      toast(e.message, true);
      run.disabled = false;
    });
  });
  await load();
  return h("div", {}, run, out);
}

async function sessions(id: number): Promise<Child> {
  const list = await get<List<Session>>("/sessions" + qs({ device_id: id }));
  return table<Session>("Sessions", [
    { title: "Session", cell: (s) => "#" + s.id },
    { title: "Kind", cell: (s) => s.kind },
    { title: "Ticket", cell: (s) => (s.ticket_id ? link("/tickets/" + s.ticket_id, "#" + s.ticket_id) : "") },
    { title: "Started", cell: (s) => when(s.started_at ?? s.created_at) },
    { title: "Ended", cell: (s) => when(s.ended_at) },
    { title: "Consent", cell: (s) => s.consent ?? "" },
  ], list.items);
}

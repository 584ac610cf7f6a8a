// Admin pages: users and roles, device groups and their grants, enrollment
// tokens, SLA policies and webhooks. Each is a list with a create form;
// secrets (enrollment tokens, webhook secrets) are shown once.

import { call, del, get, patch, post } from "../api.js";
import type { List, User } from "../api.js";
import { h, replace } from "../dom.js";
import type { Child } from "../dom.js";
import { duration, when } from "../format.js";
import { field, form, input, link, select, table, toast } from "../ui.js";
import type { Column, Page } from "../ui.js";

type Row = Record<string, unknown> & { id: number };

const SECTIONS: [string, string][] = [
  ["/admin/users", "Users and roles"],
  ["/admin/groups", "Device groups"],
  ["/admin/enrollment", "Enrollment tokens"],
  ["/admin/sla", "SLA policies"],
  ["/admin/webhooks", "Webhooks"],
];

function subnav(active: string): HTMLElement {
  return h("nav", { "aria-label": "Admin", class: "tabs" }, ...SECTIONS.map(([path, label]) => {
    const a = link(path, label);
    if (path === active) a.setAttribute("aria-current", "page");
    return a;
  }));
}

interface CrudSpec {
  path: string;
  title: string;
  api: string;
  columns: Column<Row>[];
  create: () => Child[];
  body: (d: FormData) => unknown;
  /** created shows what the answer holds once (a secret), or nothing. */
  created?: (r: Record<string, unknown>) => Child;
  actions?: (r: Row, reload: () => void) => Child;
}

function crud(spec: CrudSpec): Page {
  return async (main) => {
    const list = h("div", { id: "admin-list" });
    const once = h("div", { "aria-live": "polite" });
    const reload = async () => {
      const rows = await get<List<Row>>(spec.api);
      const cols = spec.actions ? [...spec.columns, { title: "", cell: (r: Row) => spec.actions!(r, () => void reload()) }] : spec.columns;
      replace(list, table<Row>(spec.title, cols, rows.items));
    };
    const f = form(spec.create(), "Create", async (d) => {
      const r = await post<Record<string, unknown>>(spec.api, spec.body(d));
      replace(once, spec.created?.(r) ?? null);
      toast("Created");
      await reload();
    }, { "aria-label": "Create" });
    replace(main, h("h1", {}, "Admin"), subnav(spec.path), h("div", { class: "grid2" },
      h("section", { class: "panel" }, h("h2", {}, spec.title), list),
      h("section", { class: "panel" }, h("h2", {}, "New"), once, f)));
    await reload();
  };
}

const str = (k: string) => (r: Row) => (r[k] === undefined || r[k] === null ? "" : String(r[k]));

function secretBox(label: string, value: unknown): Child {
  if (typeof value !== "string" || !value) return null;
  return h("div", { class: "panel", role: "alert" }, h("strong", {}, label + " (shown once, copy it now):"), h("pre", { class: "raw", id: "secret-value" }, value));
}

const users = crud({
  path: "/admin/users", title: "Users", api: "/users",
  columns: [
    { title: "Name", cell: str("name") }, { title: "Email", cell: str("email") }, { title: "Role", cell: str("role") },
    { title: "Level", cell: str("level") }, { title: "2FA", cell: (r) => (r["totp_enabled"] ? "on" : "off") },
    { title: "Status", cell: (r) => (r["disabled"] ? "disabled" : "active") },
  ],
  create: () => [
    field("Name", input("name", { required: true, maxlength: 200 })), field("Email", input("email", { type: "email", required: true })),
    field("Role", select("role", [["technician", "Technician"], ["viewer", "Viewer"], ["admin", "Admin"]])),
    field("Level", select("level", [["L1", "L1"], ["L2", "L2"], ["L3", "L3"], ["", "none (admins, viewers)"]])),
    field("Initial password", input("password", { type: "password", autocomplete: "new-password", minlength: 12 }), "Leave empty to have the console generate one (shown once)."),
  ],
  body: (d) => ({ name: d.get("name"), email: d.get("email"), role: d.get("role"), level: d.get("level") || null, ...(d.get("password") ? { password: d.get("password") } : {}) }),
  created: (r) => secretBox("Initial password", r["password"]),
  actions: (r, reload) => {
    const b = h("button", { type: "button" }, r["disabled"] ? "Enable" : "Disable");
    b.addEventListener("click", () => void patch("/users/" + r.id, { disabled: !r["disabled"] }).then(reload, (e: Error) => toast(e.message, true)));
    return b;
  },
});

const groups = crud({
  path: "/admin/groups", title: "Device groups", api: "/device-groups",
  columns: [{ title: "ID", cell: str("id") }, { title: "Name", cell: str("name") }, { title: "Description", cell: str("description") }],
  create: () => [field("Name", input("name", { required: true, maxlength: 100 })), field("Description", input("description", { maxlength: 500 }))],
  body: (d) => ({ name: d.get("name"), description: d.get("description") }),
  actions: (r) => {
    const b = h("button", { type: "button" }, "Grant…");
    b.addEventListener("click", () => grantDialog(r));
    return b;
  },
});

/** grantDialog gives a user or team permissions on a group. */
function grantDialog(group: Row): void {
  const perms = ["view", "control", "unattended", "clipboard", "files"];
  const dlg = h("dialog", { "aria-labelledby": "grant-title" });
  const users = select("who", [["role:technician", "Every technician"], ["role:viewer", "Every viewer"]]);
  get<List<User>>("/users").then((l) => users.append(...l.items.map((u) => h("option", { value: "user:" + u.id }, u.name || u.email))));
  const current = h("ul", {});
  get<List<{ user_id?: number; role?: string; permissions: string[] }>>(`/device-groups/${group.id}/grants`).then((l) =>
    replace(current, ...l.items.map((g) => h("li", {}, `${g.user_id ? "user #" + g.user_id : "role " + g.role}: ${g.permissions.join(", ") || "none"}`))));
  const f = form([
    h("h2", { id: "grant-title" }, "Permissions on " + String(group["name"] ?? "")),
    current,
    field("Who", users),
    h("fieldset", {}, h("legend", {}, "Permissions"), ...perms.map((p) => h("label", {}, h("input", { type: "checkbox", name: "perm", value: p }), " " + p))),
  ], "Grant", async (d) => {
    const [kind, who] = String(d.get("who")).split(":");
    await call("PUT", `/device-groups/${group.id}/grants`, { ...(kind === "user" ? { user_id: Number(who) } : { role: who }), permissions: d.getAll("perm") });
    toast("Granted");
    dlg.close();
    dlg.remove();
  });
  const cancel = h("button", { type: "button" }, "Cancel");
  cancel.addEventListener("click", () => {
    dlg.close();
    dlg.remove();
  });
  dlg.append(f, cancel);
  document.body.appendChild(dlg);
  dlg.showModal();
}

const enrollment = crud({
  path: "/admin/enrollment", title: "Enrollment tokens", api: "/enrollment-tokens",
  columns: [
    { title: "Name", cell: str("name") }, { title: "Group", cell: str("group_id") },
    { title: "Uses", cell: (r) => `${r["uses"] ?? 0} / ${r["max_uses"] || "∞"}` },
    { title: "Expires", cell: (r) => when(r["expires_at"] as string) }, { title: "Status", cell: (r) => (r["revoked"] ? "revoked" : r["usable"] ? "usable" : "used up or expired") },
  ],
  create: () => [
    field("Name", input("name", { required: true, maxlength: 100 })), field("Group ID", input("group_id", { inputmode: "numeric", required: true, pattern: "[0-9]+" })),
    field("Maximum uses", input("max_uses", { type: "number", min: 0, value: 10 }), "0 means no limit."),
    field("Valid for (days)", input("days", { type: "number", min: 1, max: 365, value: 7 })),
  ],
  body: (d) => ({ name: d.get("name"), group_id: Number(d.get("group_id")), max_uses: Number(d.get("max_uses")), expires_in_seconds: Number(d.get("days")) * 86400 }),
  created: (r) => secretBox("Enrollment token", r["secret"]),
  actions: (r, reload) => {
    if (r["revoked"]) return null;
    const b = h("button", { type: "button" }, "Revoke");
    b.addEventListener("click", () => void post(`/enrollment-tokens/${r.id}/revoke`).then(reload, (e: Error) => toast(e.message, true)));
    return b;
  },
});

const secs = (v: unknown) => (typeof v === "number" ? duration(v) : "—");

const sla = crud({
  path: "/admin/sla", title: "SLA policies", api: "/sla-policies",
  columns: [
    { title: "Name", cell: str("name") },
    { title: "Targets (first response / resolution)", cell: (r) => {
      const t = (r["targets"] ?? {}) as Record<string, { first_response_seconds?: unknown; resolution_seconds?: unknown }>;
      return h("ul", {}, ...Object.entries(t).sort().map(([p, x]) => h("li", {}, `${p}: ${secs(x.first_response_seconds)} / ${secs(x.resolution_seconds)}`)));
    } },
    { title: "Calendar", cell: (r) => String((r["calendar"] as { tz?: string } | undefined)?.tz || "UTC") },
    { title: "Default", cell: (r) => (r["default"] ? "yes" : "") },
  ],
  create: () => [
    field("Name", input("name", { required: true })),
    ...[1, 2, 3, 4].map((p) => h("div", { class: "row" }, field(`P${p} first response (minutes)`, input(`fr${p}`, { type: "number", min: 1, value: [15, 60, 240, 480][p - 1]! })),
      field(`P${p} resolution (hours)`, input(`res${p}`, { type: "number", min: 1, value: [4, 8, 24, 72][p - 1]! })))),
    field("Time zone", input("tz", { value: Intl.DateTimeFormat().resolvedOptions().timeZone })),
    field("Business hours", select("hours", [["9-17", "Monday to Friday, 9:00–17:00"], ["8-18", "Monday to Friday, 8:00–18:00"], ["24x7", "Around the clock"]])),
    h("label", { class: "row" }, h("input", { type: "checkbox", name: "default" }), "Default policy for new tickets"),
  ],
  body: (d) => {
    const hours = String(d.get("hours"));
    const [from, to] = hours === "24x7" ? [0, 24] : hours.split("-").map(Number) as [number, number];
    const day = [{ start: from * 60, end: to * 60 }];
    // week is indexed by weekday, Sunday first.
    const week = [0, 1, 2, 3, 4, 5, 6].map((wd) => (hours === "24x7" || (wd >= 1 && wd <= 5) ? day : []));
    return {
      name: d.get("name"), default: d.get("default") === "on",
      targets: Object.fromEntries([1, 2, 3, 4].map((p) => ["P" + p, { first_response_seconds: Number(d.get("fr" + p)) * 60, resolution_seconds: Number(d.get("res" + p)) * 3600 }])),
      calendar: { tz: d.get("tz"), week },
    };
  },
});

const webhooks = crud({
  path: "/admin/webhooks", title: "Webhooks", api: "/webhooks",
  columns: [
    { title: "Name", cell: str("name") }, { title: "URL", cell: str("url") },
    { title: "Events", cell: (r) => ((r["event_types"] as string[] | undefined) ?? []).join(", ") }, { title: "Enabled", cell: (r) => (r["enabled"] ? "yes" : "no") },
  ],
  create: () => {
    const events = h("fieldset", {}, h("legend", {}, "Events"));
    get<List<string>>("/webhook-event-types").then((l) => events.append(...l.items.map((e) =>
      h("label", { class: "row" }, h("input", { type: "checkbox", name: "events", value: e, checked: true }), e))));
    return [field("Name", input("name", { required: true, maxlength: 100 })), field("URL", input("url", { type: "url", required: true, placeholder: "https://…" })), events];
  },
  body: (d) => ({ name: d.get("name"), url: d.get("url"), event_types: d.getAll("events"), enabled: true }),
  created: (r) => secretBox("Signing secret", r["secret"]),
  actions: (r, reload) => {
    const ping = h("button", { type: "button" }, "Send test");
    ping.addEventListener("click", () => void post(`/webhooks/${r.id}/ping`).then(() => toast("Test event queued"), (e: Error) => toast(e.message, true)));
    const b = h("button", { type: "button" }, "Delete");
    b.addEventListener("click", () => {
      if (confirm("Delete this webhook?")) void del("/webhooks/" + r.id).then(reload, (e: Error) => toast(e.message, true));
    });
    return h("div", { class: "row" }, ping, b);
  },
});

/** adminPages are the admin routes. */
export const adminPages: [string, string, Page][] = [
  ["/admin", "Admin", users],
  ["/admin/users", "Users", users],
  ["/admin/groups", "Device groups", groups],
  ["/admin/enrollment", "Enrollment tokens", enrollment],
  ["/admin/sla", "SLA policies", sla],
  ["/admin/webhooks", "Webhooks", webhooks],
];

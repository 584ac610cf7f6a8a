// Generic, bounded rendering of agent-reported JSON (inventory sections,
// diagnostics, change sets): objects as definition lists, lists of objects
// as tables, everything else as text. Nothing here is ever parsed as markup.

import { h } from "./dom.js";
import type { Child } from "./dom.js";
import { bytes } from "./format.js";

const MAX_ROWS = 500;
const MAX_DEPTH = 5;

/** label turns a JSON key into a column or field name. */
export function label(key: string): string {
  const s = key.replace(/_/g, " ");
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** scalar formats a primitive; byte counts by their key name. */
export function scalar(key: string, v: unknown): string {
  if (v === null || v === undefined || v === "") return "—";
  if (typeof v === "number" && /bytes$/.test(key)) return bytes(v);
  if (typeof v === "number" && /percent$/.test(key)) return v.toFixed(1) + "%";
  if (typeof v === "boolean") return v ? "yes" : "no";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** render shows any JSON value; filter (lower case) keeps matching table rows. */
export function render(v: unknown, key = "", depth = 0, filter = ""): Child {
  if (depth > MAX_DEPTH) return h("code", {}, scalar(key, v));
  if (Array.isArray(v)) {
    if (v.length === 0) return h("span", { class: "muted" }, "none");
    if (v.every(isObject)) return rows(v as Record<string, unknown>[], key, depth, filter);
    return h("span", {}, v.slice(0, MAX_ROWS).map((x) => scalar(key, x)).join(", "));
  }
  if (isObject(v)) {
    const entries = Object.entries(v).filter(([k]) => k !== "status" || !isObject(v[k]));
    const status = isObject(v["status"]) ? v["status"] : null;
    return h("div", {},
      status && status["ok"] === false ? h("p", { class: "warn-text" }, "Unknown: " + scalar("", status["reason"])) : null,
      h("dl", { class: "kv" }, ...entries.flatMap(([k, x]) => [h("dt", {}, label(k)), h("dd", {}, isObject(x) || Array.isArray(x) ? render(x, k, depth + 1, filter) : scalar(k, x))])));
  }
  return scalar(key, v);
}

function rows(items: Record<string, unknown>[], key: string, depth: number, filter: string): HTMLElement {
  const matching = filter ? items.filter((r) => JSON.stringify(r).toLowerCase().includes(filter)) : items;
  const cols: string[] = [];
  for (const r of matching.slice(0, 50)) for (const k of Object.keys(r)) if (!cols.includes(k) && cols.length < 10) cols.push(k);
  const shown = matching.slice(0, MAX_ROWS);
  return h("div", {},
    h("table", { "aria-label": label(key) || "Items" },
      h("thead", {}, h("tr", {}, ...cols.map((c) => h("th", { scope: "col" }, label(c))))),
      h("tbody", {}, ...shown.map((r) => h("tr", {}, ...cols.map((c) => h("td", {}, isObject(r[c]) || Array.isArray(r[c]) ? render(r[c], c, depth + 1) : scalar(c, r[c]))))))),
    matching.length > shown.length ? h("p", { class: "muted" }, `${shown.length} of ${matching.length} shown; search to narrow.`) : null,
    filter ? h("p", { class: "muted" }, `${matching.length} of ${items.length} match.`) : null);
}

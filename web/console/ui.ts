// Building blocks of the console's pages: routing, toasts, tables, forms.

import { ApiError } from "./api.js";
import { byId, h, replace } from "./dom.js";
import type { Child } from "./dom.js";

/** Page renders into main; it returns a cleanup function, or nothing. */
export type Page = (main: HTMLElement, params: Record<string, string>, query: URLSearchParams) => void | (() => void) | Promise<void | (() => void)>;

interface Route {
  pattern: RegExp;
  names: string[];
  page: Page;
  title: string;
}

const routes: Route[] = [];
let cleanup: (() => void) | null = null;
let onNavigate: (path: string) => void = () => {};

/** route registers a page for a path pattern like "/tickets/:id". */
export function route(path: string, title: string, page: Page): void {
  const names: string[] = [];
  const re = path.replace(/:([a-z]+)/g, (_, n: string) => {
    names.push(n);
    return "([^/]+)";
  });
  routes.push({ pattern: new RegExp("^" + re + "$"), names, page, title });
}

/** setOnNavigate is told the path after every navigation (for the menu). */
export function setOnNavigate(fn: (path: string) => void): void {
  onNavigate = fn;
}

/** navigate shows the page for path and records it in the history. */
export function navigate(path: string, replaceState = false): void {
  if (replaceState) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  void show();
}

/** show renders the page of the current location. */
export async function show(): Promise<void> {
  const main = byId("main");
  cleanup?.();
  cleanup = null;
  document.body.classList.remove("viewing");
  const path = location.pathname;
  for (const r of routes) {
    const m = r.pattern.exec(path);
    if (!m) continue;
    const params: Record<string, string> = {};
    r.names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1] ?? "")));
    document.title = r.title + " — Reach";
    replace(main, h("p", { class: "muted" }, "Loading…"));
    onNavigate(path);
    try {
      const c = await r.page(main, params, new URLSearchParams(location.search));
      if (typeof c === "function") cleanup = c;
    } catch (err) {
      replace(main, h("h1", {}, r.title), errorBox(err));
    }
    main.focus({ preventScroll: true });
    return;
  }
  replace(main, h("h1", {}, "Not found"), h("p", {}, "There is no page here. ", link("/tickets", "Go to the ticket queue")));
}

/** link is an in-app link: a real <a href> handled without a reload. */
export function link(path: string, ...children: Child[]): HTMLAnchorElement {
  return h("a", { href: path, "data-link": true }, ...children);
}

/** installLinks makes in-app links navigate without reloading. */
export function installLinks(): void {
  document.addEventListener("click", (ev) => {
    const a = (ev.target as Element | null)?.closest?.("a[data-link]") as HTMLAnchorElement | null;
    if (!a || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
    ev.preventDefault();
    navigate(a.getAttribute("href") ?? "/");
  });
  window.addEventListener("popstate", () => void show());
}

/** message returns a person-readable text for an error. */
export function message(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}

/** errorBox shows an error in the page. */
export function errorBox(err: unknown): HTMLElement {
  return h("p", { class: "error", role: "alert" }, message(err));
}

/** toast shows a short message in the corner for a few seconds. */
export function toast(text: string, bad = false): void {
  const box = byId("toast");
  const p = h("p", { class: bad ? "bad" : "" }, text);
  box.appendChild(p);
  setTimeout(() => p.remove(), bad ? 8000 : 4000);
}

/** Column describes one table column. */
export interface Column<T> {
  title: string;
  cell: (row: T) => Child;
}

/**
 * table renders rows; with open, a row opens on click or Enter (its first
 * cell holds a real link for keyboard and screen-reader users).
 */
export function table<T>(label: string, cols: Column<T>[], rows: T[], open?: (row: T) => string): HTMLElement {
  if (rows.length === 0) return h("p", { class: "muted" }, "Nothing to show.");
  const body = h("tbody", {});
  for (const row of rows) {
    const tr = h("tr", { class: open ? "clickable" : "" }, ...cols.map((c) => h("td", {}, c.cell(row))));
    if (open) {
      tr.addEventListener("click", (ev) => {
        if ((ev.target as Element).closest("a, button, input, select")) return;
        navigate(open(row));
      });
    }
    body.appendChild(tr);
  }
  return h("table", { "aria-label": label }, h("thead", {}, h("tr", {}, ...cols.map((c) => h("th", { scope: "col" }, c.title)))), body);
}

/** field is a labelled control. */
export function field(label: string, control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement, hint?: string): HTMLElement {
  if (!control.id) control.id = "f-" + Math.random().toString(36).slice(2, 10);
  const hintEl = hint ? h("span", { class: "muted", id: control.id + "-hint" }, hint) : null;
  if (hintEl) control.setAttribute("aria-describedby", hintEl.id);
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control, hintEl);
}

/** select builds a <select> from value/label pairs. */
export function select(name: string, options: [string, string][], value = ""): HTMLSelectElement {
  const s = h("select", { name });
  for (const [v, l] of options) s.appendChild(h("option", { value: v, selected: v === value }, l));
  return s;
}

/** input builds an <input>. */
export function input(name: string, attrs: Record<string, string | number | boolean> = {}): HTMLInputElement {
  return h("input", { name, type: "text", ...attrs });
}

/**
 * form wires a submit handler that disables the submit button while it
 * runs and shows errors in the form.
 */
export function form(children: Child[], submitLabel: string, onSubmit: (data: FormData) => Promise<void>, attrs: Record<string, string> = {}): HTMLFormElement {
  const err = h("p", { class: "error", role: "alert" });
  const btn = h("button", { type: "submit", class: "primary" }, submitLabel);
  const f = h("form", attrs, ...children, err, h("div", { class: "row" }, btn));
  f.addEventListener("submit", (ev) => {
    ev.preventDefault();
    err.textContent = "";
    btn.disabled = true;
    onSubmit(new FormData(f)).then(
      () => (btn.disabled = false),
      (e: unknown) => {
        btn.disabled = false;
        err.textContent = message(e);
      },
    );
  });
  return f;
}

/** tabs shows one panel at a time with arrow-key navigation between tabs. */
export function tabs(label: string, panels: [string, () => Child | Promise<Child>][]): HTMLElement {
  const list = h("div", { class: "tabs", role: "tablist", "aria-label": label });
  const panel = h("div", { role: "tabpanel", tabindex: "0" });
  const buttons: HTMLButtonElement[] = [];
  let shown = 0; // the latest selection; a slower earlier load must not replace it
  const select = async (i: number, focus: boolean) => {
    const mine = ++shown;
    buttons.forEach((b, j) => {
      b.setAttribute("aria-selected", String(i === j));
      b.tabIndex = i === j ? 0 : -1;
    });
    if (focus) buttons[i]?.focus();
    panel.setAttribute("aria-labelledby", buttons[i]?.id ?? "");
    replace(panel, h("p", { class: "muted" }, "Loading…"));
    let content: Child;
    try {
      content = await panels[i]![1]();
    } catch (err) {
      content = errorBox(err);
    }
    if (mine === shown) replace(panel, content);
  };
  panels.forEach(([name], i) => {
    const b = h("button", { type: "button", role: "tab", id: "tab-" + name.toLowerCase().replace(/\W+/g, "-") }, name);
    b.addEventListener("click", () => void select(i, false));
    b.addEventListener("keydown", (ev) => {
      const n = panels.length;
      if (ev.key === "ArrowRight") void select((i + 1) % n, true);
      else if (ev.key === "ArrowLeft") void select((i + n - 1) % n, true);
      else return;
      ev.preventDefault();
    });
    buttons.push(b);
    list.appendChild(b);
  });
  void select(0, false);
  return h("div", {}, list, panel);
}

/** kv renders a definition list from pairs. */
export function kv(pairs: [string, Child][]): HTMLElement {
  return h("dl", { class: "kv" }, ...pairs.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v === "" || v === null || v === undefined ? "—" : v)]));
}

// Reach technician console: a single-page app on the console API. It
// signs in (password, then TOTP), then routes between the ticket queue,
// tickets, devices, the live session viewer, KPIs and admin pages. No
// framework, no CDN; bundled by web/build.mjs and embedded by console/webui.

import { get, post, setCSRF, setOnUnauthorized } from "./api.js";
import type { Me } from "./api.js";
import { byId, h, replace } from "./dom.js";
import { accountPage } from "./pages/account.js";
import { adminPages } from "./pages/admin.js";
import { deviceList, devicePage } from "./pages/devices.js";
import { kpiPage } from "./pages/kpis.js";
import { login } from "./pages/login.js";
import { ticketPage, ticketQueue } from "./pages/tickets.js";
import { viewerPage } from "./pages/viewer.js";
import { current } from "./state.js";
import { installLinks, link, navigate, route, setOnNavigate, show } from "./ui.js";

const NAV: [string, string, (m: Me) => boolean][] = [
  ["/tickets", "Tickets", () => true],
  ["/devices", "Devices", () => true],
  ["/kpis", "KPIs", () => true],
  ["/admin", "Admin", (m) => m.user.role === "admin"],
];

function header(m: Me): void {
  const nav = byId("nav");
  replace(nav, ...NAV.filter(([, , ok]) => ok(m)).map(([path, label]) => h("li", {}, link(path, label))));
  const out = h("button", { type: "button", id: "sign-out" }, "Sign out");
  out.addEventListener("click", () => {
    post("/auth/logout").finally(() => {
      location.href = "/";
    });
  });
  replace(byId("me"), link("/account", h("span", { id: "me-name" }, m.user.name || m.user.email)), h("span", { class: "badge" }, m.user.role), out);
  byId("top").hidden = false;
}

setOnNavigate((path) => {
  for (const a of byId("nav").querySelectorAll("a")) {
    const href = a.getAttribute("href") ?? "";
    if (path === href || path.startsWith(href + "/")) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
});

function signedIn(m: Me): void {
  current.me = m;
  setCSRF(m.csrf_token);
  header(m);
  if (location.pathname === "/" || location.pathname === "/login") navigate("/tickets", true);
  else void show();
}

function signIn(): void {
  byId("top").hidden = true;
  login(byId("main"), signedIn);
}

route("/tickets", "Tickets", ticketQueue);
route("/tickets/:id", "Ticket", ticketPage);
route("/devices", "Devices", deviceList);
route("/devices/:id", "Device", devicePage);
route("/sessions/:id", "Live session", viewerPage);
route("/kpis", "KPIs", kpiPage);
route("/account", "Your account", accountPage);
for (const [path, title, page] of adminPages) route(path, title, page);

installLinks();
setOnUnauthorized(() => {
  if (current.me) {
    current.me = null;
    signIn();
  }
});

get<Me>("/auth/me").then(signedIn, signIn);

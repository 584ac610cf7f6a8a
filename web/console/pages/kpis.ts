// The KPI dashboard: MTTR, first-contact resolution, CSAT, SLA compliance,
// backlog and tickets per technician over a period (GET /kpis).

import { get, qs } from "../api.js";
import type { KPIReport, List, User } from "../api.js";
import { barChart, lineChart } from "../charts.js";
import { h, replace } from "../dom.js";
import { duration, pct } from "../format.js";
import { errorBox, field, input, select } from "../ui.js";

function day(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** kpiPage is /kpis. */
export async function kpiPage(main: HTMLElement, _p: Record<string, string>, query: URLSearchParams): Promise<void> {
  const now = new Date();
  const from = input("from", { type: "date", value: query.get("from") ?? day(new Date(now.getTime() - 30 * 86400e3)) });
  const to = input("to", { type: "date", value: query.get("to") ?? day(new Date(now.getTime() + 86400e3)) });
  const bucket = select("bucket", [["day", "By day"], ["week", "By week"], ["month", "By month"]], query.get("bucket") ?? "week");
  const out = h("div", { id: "kpi-report", "aria-live": "polite" });
  const f = h("form", { class: "filters", "aria-label": "Period" }, field("From", from), field("To", to), field("Group by", bucket), h("button", { type: "submit", class: "primary" }, "Show"));
  let names = new Map<number, string>();
  try {
    names = new Map((await get<List<User>>("/users")).items.map((u) => [u.id, u.name || u.email]));
  } catch {
    // not an admin: technicians show by id
  }
  const load = async () => {
    const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
    const params = { from: new Date(from.value + "T00:00:00").toISOString(), to: new Date(to.value + "T00:00:00").toISOString(), bucket: bucket.value, tz };
    history.replaceState(null, "", "/kpis" + qs({ from: from.value, to: to.value, bucket: bucket.value }));
    try {
      const r = await get<KPIReport>("/kpis" + qs(params));
      replace(out, report(r, names));
    } catch (err) {
      replace(out, errorBox(err));
    }
  };
  f.addEventListener("submit", (ev) => {
    ev.preventDefault();
    void load();
  });
  replace(main, h("h1", {}, "KPIs"), f, out);
  await load();
}

function card(label: string, value: string, id: string, sub = ""): HTMLElement {
  return h("div", { class: "kpi", id }, h("div", { class: "l" }, label), h("div", { class: "v" }, value), sub ? h("div", { class: "muted" }, sub) : null);
}

function report(r: KPIReport, names: Map<number, string>): HTMLElement {
  const t = r.totals;
  const labels = r.series.map((p) => p.start.slice(5, 10));
  const hours = (s: number) => duration(s);
  const csat = t.csat;
  return h("div", {},
    h("div", { class: "kpis" },
      card("MTTR (business hours)", t.resolved ? hours(t.mttr.business_seconds) : "—", "kpi-mttr", t.resolved ? "wall clock " + hours(t.mttr.wall_seconds) : ""),
      card("First-contact resolution", pct(t.first_contact_resolution.rate, t.first_contact_resolution.of), "kpi-fcr", `${t.first_contact_resolution.count} of ${t.first_contact_resolution.of}`),
      card("CSAT", csat && csat.responses ? csat.average.toFixed(2) + " / 5" : "—", "kpi-csat", csat ? `${csat.responses} answers, ${pct(csat.response_rate, csat.sessions)} response rate` : ""),
      card("SLA resolution met", pct(t.sla.resolution.rate, t.sla.resolution.of), "kpi-sla", `first response ${pct(t.sla.first_response.rate, t.sla.first_response.of)}`),
      card("Backlog", String(r.backlog.total), "kpi-backlog", `${r.backlog.breached} breached`),
      card("Resolved", String(t.resolved), "kpi-resolved"),
    ),
    h("div", { class: "charts" },
      h("section", { class: "panel chart" }, h("h2", {}, "MTTR over time"),
        h("div", { class: "legend" }, h("span", {}, h("span", { class: "sw" }), "business hours"), h("span", {}, h("span", { class: "sw second" }), "wall clock")),
        lineChart("Mean time to resolve per period", labels, [
          { name: "business", values: r.series.map((p) => (p.resolved ? p.mttr.business_seconds : null)) },
          { name: "wall clock", values: r.series.map((p) => (p.resolved ? p.mttr.wall_seconds : null)), second: true },
        ], (v) => duration(v), undefined, 3600)),
      h("section", { class: "panel chart" }, h("h2", {}, "Rates over time"),
        h("div", { class: "legend" }, h("span", {}, h("span", { class: "sw" }), "SLA resolution met"), h("span", {}, h("span", { class: "sw second" }), "first-contact resolution")),
        lineChart("SLA compliance and first-contact resolution per period", labels, [
          { name: "SLA met", values: r.series.map((p) => (p.sla.resolution.of ? p.sla.resolution.rate * 100 : null)) },
          { name: "FCR", values: r.series.map((p) => (p.first_contact_resolution.of ? p.first_contact_resolution.rate * 100 : null)), second: true },
        ], (v) => v.toFixed(0) + "%", 100)),
      h("section", { class: "panel chart" }, h("h2", {}, "CSAT over time"),
        lineChart("Average satisfaction per period", labels, [{ name: "CSAT", values: r.series.map((p) => (p.csat && p.csat.responses ? p.csat.average : null)) }], (v) => v.toFixed(1), 5),
        csat ? barChart("CSAT answers by score", [1, 2, 3, 4, 5].map((n): [string, number] => [n + " / 5", csat.distribution[n - 1] ?? 0]), (v) => String(v)) : null),
      h("section", { class: "panel chart" }, h("h2", {}, "Resolved per period"),
        lineChart("Tickets resolved per period", labels, [{ name: "resolved", values: r.series.map((p) => p.resolved) }], (v) => v.toFixed(1), undefined, 5)),
      h("section", { class: "panel chart" }, h("h2", {}, "Tickets per technician"),
        r.technicians.length ? barChart("Tickets resolved per technician", r.technicians.map((x): [string, number] => [x.technician_id ? names.get(x.technician_id) ?? "#" + x.technician_id : "unassigned", x.resolved]), (v) => String(v)) : h("p", { class: "muted" }, "No resolved tickets in this period.")),
      h("section", { class: "panel chart" }, h("h2", {}, "Backlog"),
        barChart("Open tickets by priority", ["P1", "P2", "P3", "P4"].map((p): [string, number] => [p, r.backlog.by_priority?.[p] ?? 0]), (v) => String(v)),
        barChart("Open tickets by assignee", (r.backlog.by_assignee ?? []).slice(0, 10).map((c): [string, number] => [c.id ? names.get(c.id) ?? "#" + c.id : "unassigned", c.count]), (v) => String(v))),
    ),
  );
}

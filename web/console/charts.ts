// Hand-rolled SVG charts for the KPI dashboard: a line chart over time and
// a horizontal bar chart. Labels are SVG text nodes (textContent).

const NS = "http://www.w3.org/2000/svg";

function el<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** Series is one line: a value (or null for no data) per x label. */
export interface Series {
  name: string;
  values: (number | null)[];
  second?: boolean;
}

/**
 * lineChart draws series against labels; fmt formats the y axis, whose top
 * is fixedMax when given, else the data's maximum but at least minMax.
 */
export function lineChart(title: string, labels: string[], series: Series[], fmt: (v: number) => string, fixedMax?: number, minMax = 1e-9): SVGSVGElement {
  const W = 560, H = 220, L = 64, R = 24, T = 12, B = 34;
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const max = fixedMax ?? Math.max(minMax, ...all) * 1.1;
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": title });
  svg.appendChild(el("title", {}, title));
  const x = (i: number) => L + (labels.length <= 1 ? (W - L - R) / 2 : (i * (W - L - R)) / (labels.length - 1));
  const y = (v: number) => T + (H - T - B) * (1 - v / max);
  for (let k = 0; k <= 4; k++) {
    const v = (max * k) / 4;
    svg.appendChild(el("line", { class: "gridline", x1: L, x2: W - R, y1: y(v), y2: y(v) }));
    svg.appendChild(el("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end" }, fmt(v)));
  }
  svg.appendChild(el("line", { class: "axis", x1: L, x2: L, y1: T, y2: H - B }));
  svg.appendChild(el("line", { class: "axis", x1: L, x2: W - R, y1: H - B, y2: H - B }));
  const step = Math.max(1, Math.ceil(labels.length / 8));
  labels.forEach((l, i) => {
    if (i % step === 0) svg.appendChild(el("text", { x: x(i), y: H - B + 16, "text-anchor": "middle" }, l));
  });
  for (const s of series) {
    let d = "";
    s.values.forEach((v, i) => {
      if (v === null) return;
      d += (d ? " L" : "M") + x(i).toFixed(1) + " " + y(v).toFixed(1);
      const dot = el("circle", { cx: x(i), cy: y(v), r: 3, class: "line" + (s.second ? " second" : "") });
      dot.appendChild(el("title", {}, `${s.name} ${labels[i]}: ${fmt(v)}`));
      svg.appendChild(dot);
    });
    if (d) svg.appendChild(el("path", { d, class: "line" + (s.second ? " second" : "") }));
  }
  return svg;
}

/** barChart draws one horizontal bar per item. */
export function barChart(title: string, items: [string, number][], fmt: (v: number) => string): SVGSVGElement {
  const W = 560, rowH = 22, L = 150, R = 60;
  const H = Math.max(1, items.length) * rowH + 8;
  const max = Math.max(1e-9, ...items.map(([, v]) => v));
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": title });
  svg.appendChild(el("title", {}, title));
  items.forEach(([label, v], i) => {
    const y = 4 + i * rowH;
    svg.appendChild(el("text", { x: L - 8, y: y + 14, "text-anchor": "end" }, label.length > 22 ? label.slice(0, 21) + "…" : label));
    svg.appendChild(el("rect", { class: "bar", x: L, y: y + 3, height: rowH - 8, width: Math.max(1, ((W - L - R) * v) / max) }));
    svg.appendChild(el("text", { x: L + ((W - L - R) * v) / max + 6, y: y + 14 }, fmt(v)));
  });
  return svg;
}

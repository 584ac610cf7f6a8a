// Formatting of times, durations and SLA deadlines for the console.

/** when formats an ISO time for people, or "—". */
export function when(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "—";
  return d.toLocaleString(undefined, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

/** duration formats seconds as "3d 4h", "2h 05m", "4m 09s". */
export function duration(seconds: number): string {
  const neg = seconds < 0;
  let s = Math.round(Math.abs(seconds));
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const hh = Math.floor(s / 3600);
  s -= hh * 3600;
  const mm = Math.floor(s / 60);
  s -= mm * 60;
  const pad = (n: number) => String(n).padStart(2, "0");
  const out = d > 0 ? `${d}d ${hh}h` : hh > 0 ? `${hh}h ${pad(mm)}m` : mm > 0 ? `${mm}m ${pad(s)}s` : `${s}s`;
  return neg ? "-" + out : out;
}

/** ago formats how long ago an ISO time was. */
export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return "never";
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return "never";
  return duration((now - t) / 1000) + " ago";
}

/** SLAView is how a deadline is shown: text and a colour class. */
export interface SLAView {
  text: string;
  state: "none" | "ok" | "warning" | "breached" | "paused" | "met";
}

/** WARN_SECONDS: a deadline is "warning" within an hour, as console.DefaultSLAWarning. */
const WARN_SECONDS = 60 * 60;

/**
 * slaView shows a deadline as a countdown: "2h 05m left", "breached 14m
 * ago". A state sent by the console (warning/breached/paused/met) wins over
 * the local clock.
 */
export function slaView(due: string | null | undefined, opts: { done?: string | null; paused?: boolean; state?: string } = {}, now = Date.now()): SLAView {
  if (opts.done) return { text: "met", state: "met" };
  if (!due) return { text: "no target", state: "none" };
  if (opts.paused || opts.state === "paused") return { text: "paused", state: "paused" };
  const left = (new Date(due).getTime() - now) / 1000;
  if (left <= 0 || opts.state === "breached") return { text: `breached ${duration(-Math.min(left, 0))} ago`, state: "breached" };
  const state = opts.state === "warning" || left <= WARN_SECONDS ? "warning" : "ok";
  return { text: `${duration(left)} left`, state };
}

/** pct formats a 0..1 rate as a percentage. */
export function pct(rate: number, of?: number): string {
  if (of === 0) return "—";
  return (rate * 100).toFixed(rate >= 0.995 || rate === 0 ? 0 : 1) + "%";
}

/** bytes formats a byte count. */
export function bytes(n: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return (i ? n.toFixed(1) : String(n)) + " " + units[i];
}

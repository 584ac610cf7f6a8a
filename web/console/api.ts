// The console REST API (/api/v1/, console/api): JSON in and out, cookie
// sign-in with the X-CSRF-Token header on unsafe requests, errors as
// {"error":{"code","message"}}. Every value here may have come from an
// agent: render it with textContent only.

/** ApiError is a failed API call. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

let csrf = "";

/** setCSRF remembers the sign-in's CSRF token for unsafe requests. */
export function setCSRF(token: string): void {
  csrf = token;
}

/** onUnauthorized is called when a call finds the sign-in gone. */
let onUnauthorized: () => void = () => {};

/** setOnUnauthorized replaces the handler of expired sign-ins. */
export function setOnUnauthorized(fn: () => void): void {
  onUnauthorized = fn;
}

/** call makes one API request and decodes the JSON answer (undefined for 204). */
export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && method !== "HEAD" && csrf) headers["X-CSRF-Token"] = csrf;
  const res = await fetch("/api/v1" + path, {
    method,
    headers,
    body: body === undefined ? null : JSON.stringify(body),
    credentials: "same-origin",
  });
  if (res.status === 204) return undefined as T;
  let data: unknown = null;
  try {
    data = await res.json();
  } catch {
    // not JSON
  }
  if (!res.ok) {
    const e = (data as { error?: { code?: string; message?: string } } | null)?.error;
    if (res.status === 401 && !path.startsWith("/auth/")) onUnauthorized();
    throw new ApiError(res.status, e?.code ?? "http_" + res.status, e?.message ?? `the console answered ${res.status}`);
  }
  return data as T;
}

export const get = <T>(path: string) => call<T>("GET", path);
export const post = <T>(path: string, body: unknown = {}) => call<T>("POST", path, body);
export const patch = <T>(path: string, body: unknown) => call<T>("PATCH", path, body);
export const del = <T>(path: string) => call<T>("DELETE", path);

/** List is a page of items (console/api list). */
export interface List<T> {
  items: T[];
  next?: string;
}

/** qs builds a query string from the set values. */
export function qs(params: Record<string, string | number | boolean | undefined | null>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") u.set(k, String(v));
  const s = u.toString();
  return s ? "?" + s : "";
}

/** User is a console user. */
export interface User {
  id: number;
  email: string;
  name: string;
  role: "admin" | "technician" | "viewer";
  level?: string | null;
  disabled?: boolean;
  totp_enabled?: boolean;
  team_id?: number;
}

/** Me is the signed-in user and the session's CSRF token (GET /auth/me). */
export interface Me {
  user: User;
  csrf_token: string;
  groups?: { group_id: number; permissions: string[] }[];
}

/** LoginResult answers a password sign-in. */
export interface LoginResult {
  mfa_required?: boolean;
  user?: User;
  csrf_token?: string;
}

/** Ticket is a help-desk ticket. */
export interface Ticket {
  id: number;
  title: string;
  description?: string;
  status: string;
  priority: string;
  channel?: string;
  category?: string;
  level?: string | null;
  requester?: { name?: string; email?: string; phone?: string };
  assignee_id?: number;
  team_id?: number;
  created_at: string;
  updated_at?: string;
  first_response_due?: string;
  resolution_due?: string;
  first_responded_at?: string;
  resolved_at?: string;
  paused_at?: string;
  sla_state?: string;
  next_due?: string;
  device_ids?: number[];
  version: number;
}

/** Comment is a public or internal ticket comment. */
export interface Comment {
  id: number;
  author_id?: number;
  body: string;
  internal: boolean;
  created_at: string;
}

/** TicketEvent is one history entry of a ticket. */
export interface TicketEvent {
  id: number;
  kind: string;
  at: string;
  actor_id?: number;
  ref_id?: number;
  changes: { field: string; old: string; new: string }[];
}

/** Device is an enrolled device. */
export interface Device {
  id: number;
  name: string;
  hostname: string;
  os: { name: string; version: string };
  group_id: number;
  last_seen_at?: string;
  inventory_at?: string;
  /** online is null when presence is unknown. */
  online: boolean | null;
  enrolled_at: string;
  disk_used_percent: number;
}

/** Session is a remote session (console.Session). */
export interface Session {
  id: number;
  kind: "attended" | "unattended";
  ticket_id?: number | null;
  device_id?: number | null;
  technician_id?: number;
  relay_sid?: string;
  permissions?: string[];
  created_at: string;
  started_at?: string;
  ended_at?: string;
  end_reason?: string;
  duration_seconds?: number;
  consent?: string;
  recording?: boolean;
}

/** SessionDetail is GET /sessions/{id}: the session, its timeline and CSAT. */
export interface SessionDetail extends Session {
  timeline: SessionEvent[];
  csat?: { score: number; comment?: string; answered_at: string };
}

/** SessionStart answers POST /sessions. */
export interface SessionStart {
  session: Session;
  relay_url: string;
  token: string;
}

/** SessionEvent is one entry of a session's timeline. */
export interface SessionEvent {
  id?: number;
  at: string;
  source: string;
  type: string;
  detail?: unknown;
}

/** KPIReport mirrors console/kpi.Report. */
export interface KPIStats {
  resolved: number;
  mttr: { wall_seconds: number; wall_median_seconds: number; business_seconds: number; business_median_seconds: number };
  first_contact_resolution: { count: number; of: number; rate: number };
  sla: { first_response: { count: number; of: number; rate: number }; resolution: { count: number; of: number; rate: number } };
  csat: { sessions: number; responses: number; average: number; response_rate: number; distribution: number[] } | null;
}
export interface KPIReport {
  from: string;
  to: string;
  bucket: string;
  time_zone: string;
  totals: KPIStats;
  series: (KPIStats & { start: string; end: string })[];
  technicians: { technician_id: number; resolved: number; mttr_business_seconds: number; first_contact_resolution: { rate: number; of: number }; sla_resolution: { rate: number; of: number } }[];
  backlog: { total: number; breached: number; by_priority: Record<string, number>; by_status: Record<string, number>; by_team: { id: number; count: number }[]; by_assignee: { id: number; count: number }[] };
}

import { DurableObject } from "cloudflare:workers";
import type { SandboxEnv } from "../env";

export const EMULATED_SERVICES = ["dastra", "hubspot", "jira", "graph"] as const;
export type EmulatedService = (typeof EMULATED_SERVICES)[number];

/** Faults injected into one emulated service, set through /_sandbox/faults/:service. */
export interface FaultSettings {
  /** Extra latency added to every response, in ms. */
  latencyMs?: number;
  /** Share (0..1) of requests answered 503. */
  errorRate?: number;
  /** Share (0..1) of requests answered 429 with Retry-After (a "429 storm" is 1). */
  throttleRate?: number;
  retryAfterSeconds?: number;
  /** Throttled answers carry no Retry-After header (HubSpot's 429s: the policy is named in the body only). */
  omitRetryAfter?: boolean;
  /** Status of the `errorRate` answers (default 503), e.g. 500 or 502 for a provider's 5xx. */
  errorStatus?: 500 | 502 | 503 | 504;
  /**
   * Share (0..1) of writes (POST, PUT, PATCH, DELETE; not the token endpoint) that are carried out but answered 504, as when a gateway times
   * out after the backend committed: the caller cannot tell, and a blind retry would do it twice.
   */
  lostResponseRate?: number;
  /** Epoch ms until which every request gets 503 (an outage window). */
  outageUntil?: number;
  /**
   * A 429 at a chosen moment: of the requests with this method and path (pathname, exact), the first `skip` pass and
   * the next `count` are answered 429 with Retry-After (e.g. "page 2 of a list read is throttled"). Counts down.
   */
  throttleMatching?: { method: string; path: string; skip: number; count: number };
}

/** Holds the fault settings of every emulated service, in SQLite so they survive requests. */
export class FaultPlan extends DurableObject<SandboxEnv> {
  constructor(ctx: DurableObjectState, env: SandboxEnv) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS faults (service TEXT PRIMARY KEY, settings TEXT NOT NULL)");
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS fault_hits (service TEXT NOT NULL, kind TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (service, kind))",
    );
  }

  /** Counts one fault answer actually given (kind: unavailable, throttled, failure, lost), so a test can show it hit. */
  recordHit(service: EmulatedService, kind: string): void {
    this.ctx.storage.sql.exec(
      "INSERT INTO fault_hits (service, kind, n) VALUES (?, ?, 1) ON CONFLICT(service, kind) DO UPDATE SET n = n + 1",
      service,
      kind,
    );
  }

  /** Fault answers given per kind since the last reset (kept when a service's plan is cleared). */
  hits(service: EmulatedService): Record<string, number> {
    const rows = this.ctx.storage.sql
      .exec<{ kind: string; n: number }>("SELECT kind, n FROM fault_hits WHERE service = ?", service)
      .toArray();
    return Object.fromEntries(rows.map((r) => [r.kind, r.n]));
  }

  get(service: EmulatedService): FaultSettings | null {
    const row = this.ctx.storage.sql
      .exec<{ settings: string }>("SELECT settings FROM faults WHERE service = ?", service)
      .toArray()[0];
    return row ? (JSON.parse(row.settings) as FaultSettings) : null;
  }

  set(service: EmulatedService, settings: FaultSettings): void {
    this.ctx.storage.sql.exec(
      "INSERT INTO faults (service, settings) VALUES (?, ?) ON CONFLICT(service) DO UPDATE SET settings = excluded.settings",
      service,
      JSON.stringify(settings),
    );
  }

  /** Counts one request against `throttleMatching`; true when it is to be answered 429. Atomic (one call). */
  takeThrottleMatching(service: EmulatedService, method: string, path: string): boolean {
    const settings = this.get(service);
    const rule = settings?.throttleMatching;
    if (!settings || !rule || rule.count <= 0 || rule.method !== method || rule.path !== path) return false;
    const throttled = rule.skip === 0;
    const next = throttled ? { ...rule, count: rule.count - 1 } : { ...rule, skip: rule.skip - 1 };
    this.set(service, { ...settings, throttleMatching: next });
    return throttled;
  }

  clear(service?: EmulatedService): void {
    if (service) this.ctx.storage.sql.exec("DELETE FROM faults WHERE service = ?", service);
    else {
      this.ctx.storage.sql.exec("DELETE FROM faults");
      this.ctx.storage.sql.exec("DELETE FROM fault_hits");
    }
  }
}

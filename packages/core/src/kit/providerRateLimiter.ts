// A third-party API's request budget shared by every isolate of every connector using the same account: one
// ProviderRateLimiter instance per budget key (idFromName("hubspot:<portalId>"), "hubspot-search:<portalId>", ...),
// counting with core's DualWindowBudget, plus a shared pause set when the provider answers 429/503 with a wait
// (Microsoft Graph throttles by its answers, not by a published budget; a pause seen by one isolate stops them all).
import { DurableObject } from "cloudflare:workers";
import { type BudgetWindow, DualWindowBudget } from "../dualWindowBudget";
import { type RateLimiter, RateLimitWaitExceeded, sleep } from "../rateLimiter";

const STATE_KEY = "budget";
const PAUSE_KEY = "pausedUntil";
/** A pause asked by a provider is capped here (a bogus Retry-After must not stop a connector for days). */
const MAX_PAUSE_MS = 3_600_000;

/**
 * The windows with each `windowMs` divided by PROVIDER_RATE_WINDOW_SCALE (unset = 1): a test-only var (never in
 * wrangler.jsonc), paired with the sandbox's per-provider window scale so a soak emulates a provider's limits on a
 * shorter clock, as the router's DASTRA_RATE_WINDOW_SCALE does for Dastra's.
 */
export function scaledWindows(windows: readonly BudgetWindow[], env: unknown): BudgetWindow[] {
  const factor = Number(
    (env as { PROVIDER_RATE_WINDOW_SCALE?: string } | undefined)?.PROVIDER_RATE_WINDOW_SCALE ?? "1",
  );
  if (!(Number.isFinite(factor) && factor > 0) || factor === 1) return [...windows];
  return windows.map((w) => ({ ...w, windowMs: w.windowMs / factor }));
}

/** Connectors export it (`export { ProviderRateLimiter } from "@dastra/core/kit/providerRateLimiter"`) and bind it as PROVIDER_LIMITER. */
export class ProviderRateLimiter extends DurableObject {
  private budget: DualWindowBudget | undefined;
  private budgetShape = "";
  private pausedUntil: number | undefined;

  /**
   * Takes `cost` permits under `windows` (the caller's budget; a change of windows starts counting afresh), or says
   * how long to wait. While a provider-asked pause runs, answers its remaining time.
   */
  async reserve(windows: BudgetWindow[], cost = 1): Promise<{ ok: boolean; retryAfterMs: number }> {
    if (!(Number.isInteger(cost) && cost >= 1)) throw new RangeError("cost must be a positive integer");
    const now = Date.now();
    this.pausedUntil ??= (await this.ctx.storage.get<number>(PAUSE_KEY)) ?? 0;
    if (this.pausedUntil > now) return { ok: false, retryAfterMs: this.pausedUntil - now };
    const scaled = scaledWindows(windows, this.env);
    const shape = JSON.stringify(scaled);
    if (!this.budget || this.budgetShape !== shape) {
      this.budget = DualWindowBudget.fromJSON(await this.ctx.storage.get(STATE_KEY), scaled);
      this.budgetShape = shape;
    }
    const decision = this.budget.tryTake(now, cost);
    if (!decision.ok) return { ok: false, retryAfterMs: decision.retryAfterMs };
    // Persisted before answering (output gate): an evicted instance never hands out the same permits twice.
    await this.ctx.storage.put(STATE_KEY, this.budget.toJSON());
    return { ok: true, retryAfterMs: 0 };
  }

  /** The provider asked every caller to wait `ms` (Retry-After of a 429/503); extends, never shortens, a running pause. */
  async pause(ms: number): Promise<number> {
    const until = Date.now() + Math.min(Math.max(0, ms), MAX_PAUSE_MS);
    this.pausedUntil ??= (await this.ctx.storage.get<number>(PAUSE_KEY)) ?? 0;
    if (until > this.pausedUntil) {
      this.pausedUntil = until;
      await this.ctx.storage.put(PAUSE_KEY, until);
    }
    return this.pausedUntil;
  }

  async usage(windows: BudgetWindow[]): Promise<{ limit: number; windowMs: number; used: number }[]> {
    const budget = DualWindowBudget.fromJSON(await this.ctx.storage.get(STATE_KEY), scaledWindows(windows, this.env));
    return budget.usage(Date.now());
  }
}

/** A RateLimiter that also hears the provider's throttling answers (the provider client calls `pause`). */
export interface ProviderLimiter extends RateLimiter {
  pause(ms: number): Promise<void>;
}

interface LimiterNamespace {
  idFromName(name: string): DurableObjectId;
  get(id: DurableObjectId): {
    reserve(windows: BudgetWindow[], cost?: number): Promise<{ ok: boolean; retryAfterMs: number }>;
    pause(ms: number): Promise<number>;
  };
}

/**
 * The limiter for budget `key` (e.g. "hubspot:<portalId>") under `windows` (see providerBudgets.ts), backed by the
 * PROVIDER_LIMITER namespace. A wait longer than `maxWaitMs` (default 20_000) fails at once with RateLimitWaitExceeded,
 * which the kit maps to `retry` (a job is rerun later instead of sleeping on a spent budget).
 */
export function providerRateLimiter(
  namespace: unknown,
  key: string,
  windows: readonly BudgetWindow[],
  options: { maxWaitMs?: number } = {},
): ProviderLimiter {
  const ns = namespace as LimiterNamespace;
  const stub = () => ns.get(ns.idFromName(key));
  const maxWaitMs = options.maxWaitMs ?? 20_000;
  return {
    async acquire(signal?: AbortSignal): Promise<void> {
      let waited = 0;
      for (;;) {
        signal?.throwIfAborted();
        const answer = await stub().reserve([...windows]);
        if (answer.ok) return;
        const wait = Math.max(10, answer.retryAfterMs);
        if (waited + wait > maxWaitMs) throw new RateLimitWaitExceeded(wait);
        await sleep(wait, signal);
        waited += wait;
      }
    },
    async pause(ms: number): Promise<void> {
      await stub().pause(ms);
    },
  };
}

/** Several limiters at once (e.g. HubSpot's general budget and its search budget for a search call). */
export function allLimiters(...limiters: (RateLimiter | undefined)[]): ProviderLimiter {
  const present = limiters.filter((l): l is RateLimiter => l !== undefined);
  return {
    async acquire(signal?: AbortSignal): Promise<void> {
      for (const l of present) await l.acquire(signal);
    },
    async pause(ms: number): Promise<void> {
      for (const l of present) if ("pause" in l) await (l as ProviderLimiter).pause(ms);
    },
  };
}

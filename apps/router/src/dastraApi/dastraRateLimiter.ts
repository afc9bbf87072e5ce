// One instance per Dastra API key (idFromName(publicKey)): every worker calling Dastra with that key shares
// the 500/min + 10,000/10 min budget through it. The router binds it directly; connectors bind it by script_name.

import { DurableObject } from "cloudflare:workers";
import { DASTRA_RATE_LIMITS, DualWindowBudget } from "@dastra/core/dualWindowBudget";

const STATE_KEY = "budget";

/**
 * Dastra's windows, each divided by DASTRA_RATE_WINDOW_SCALE (unset = 1): a test-only var (never in wrangler.jsonc),
 * paired with the sandbox's RATE_WINDOW_SCALE so a scaled Dastra and this limiter keep the same clock.
 */
function scaledLimits(env: unknown) {
  const factor = Number((env as { DASTRA_RATE_WINDOW_SCALE?: string }).DASTRA_RATE_WINDOW_SCALE ?? "1");
  if (!(Number.isFinite(factor) && factor > 0) || factor === 1) return DASTRA_RATE_LIMITS;
  return DASTRA_RATE_LIMITS.map((w) => ({ ...w, windowMs: w.windowMs / factor }));
}

export class DastraRateLimiter extends DurableObject<Cloudflare.Env> {
  private budget: DualWindowBudget | undefined;

  /** Takes `cost` permits now, or says how long to wait before asking again. */
  async reserve(cost = 1): Promise<{ ok: boolean; retryAfterMs: number }> {
    if (!(Number.isInteger(cost) && cost >= 1)) throw new RangeError("cost must be a positive integer");
    this.budget ??= DualWindowBudget.fromJSON(await this.ctx.storage.get(STATE_KEY), scaledLimits(this.env));
    const decision = this.budget.tryTake(Date.now(), cost);
    if (!decision.ok) return { ok: false, retryAfterMs: decision.retryAfterMs };
    // Persisted before answering (output gate), so an evicted instance never hands out the same permits twice.
    await this.ctx.storage.put(STATE_KEY, this.budget.toJSON());
    return { ok: true, retryAfterMs: 0 };
  }

  async usage(): Promise<{ limit: number; windowMs: number; used: number }[]> {
    this.budget ??= DualWindowBudget.fromJSON(await this.ctx.storage.get(STATE_KEY), scaledLimits(this.env));
    return this.budget.usage(Date.now());
  }
}

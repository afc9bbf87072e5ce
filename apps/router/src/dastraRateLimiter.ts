// One instance per Dastra API key (idFromName(publicKey)): every worker calling Dastra with that key shares
// the 500/min + 10,000/10 min budget through it. The router binds it directly; connectors bind it by script_name.

import { DurableObject } from "cloudflare:workers";
import { DASTRA_RATE_LIMITS, DualWindowBudget } from "@dastra/core/dualWindowBudget";
import type { Env } from "./env";

const STATE_KEY = "budget";

/** Dastra's windows, each divided by DASTRA_RATE_WINDOW_SCALE (default 1): tests pair it with the sandbox's RATE_WINDOW_SCALE. */
function scaledLimits(scale: string | undefined) {
  const factor = Number(scale ?? "1");
  if (!(Number.isFinite(factor) && factor > 0) || factor === 1) return DASTRA_RATE_LIMITS;
  return DASTRA_RATE_LIMITS.map((w) => ({ ...w, windowMs: w.windowMs / factor }));
}

export class DastraRateLimiter extends DurableObject<Env> {
  private budget: DualWindowBudget | undefined;

  /** Takes `cost` permits now, or says how long to wait before asking again. */
  async reserve(cost = 1): Promise<{ ok: boolean; retryAfterMs: number }> {
    if (!(Number.isInteger(cost) && cost >= 1)) throw new RangeError("cost must be a positive integer");
    this.budget ??= DualWindowBudget.fromJSON(
      await this.ctx.storage.get(STATE_KEY),
      scaledLimits(this.env.DASTRA_RATE_WINDOW_SCALE),
    );
    const decision = this.budget.tryTake(Date.now(), cost);
    if (!decision.ok) return { ok: false, retryAfterMs: decision.retryAfterMs };
    // Persisted before answering (output gate), so an evicted instance never hands out the same permits twice.
    await this.ctx.storage.put(STATE_KEY, this.budget.toJSON());
    return { ok: true, retryAfterMs: 0 };
  }

  async usage(): Promise<{ limit: number; windowMs: number; used: number }[]> {
    this.budget ??= DualWindowBudget.fromJSON(
      await this.ctx.storage.get(STATE_KEY),
      scaledLimits(this.env.DASTRA_RATE_WINDOW_SCALE),
    );
    return this.budget.usage(Date.now());
  }
}

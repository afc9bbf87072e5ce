// One instance per Dastra API key (idFromName(publicKey)): every worker calling Dastra with that key shares
// the 500/min + 10,000/10 min budget through it. The router binds it directly; connectors bind it by script_name.

import { DurableObject } from "cloudflare:workers";
import { DualWindowBudget } from "@dastra/core/dualWindowBudget";

const STATE_KEY = "budget";

export class DastraRateLimiter extends DurableObject<Cloudflare.Env> {
  private budget: DualWindowBudget | undefined;

  /** Takes `cost` permits now, or says how long to wait before asking again. */
  async reserve(cost = 1): Promise<{ ok: boolean; retryAfterMs: number }> {
    if (!(Number.isInteger(cost) && cost >= 1)) throw new RangeError("cost must be a positive integer");
    this.budget ??= DualWindowBudget.fromJSON(await this.ctx.storage.get(STATE_KEY));
    const decision = this.budget.tryTake(Date.now(), cost);
    if (!decision.ok) return { ok: false, retryAfterMs: decision.retryAfterMs };
    // Persisted before answering (output gate), so an evicted instance never hands out the same permits twice.
    await this.ctx.storage.put(STATE_KEY, this.budget.toJSON());
    return { ok: true, retryAfterMs: 0 };
  }

  async usage(): Promise<{ limit: number; windowMs: number; used: number }[]> {
    this.budget ??= DualWindowBudget.fromJSON(await this.ctx.storage.get(STATE_KEY));
    return this.budget.usage(Date.now());
  }
}

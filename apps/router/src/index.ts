import type { Env } from "./env";
import { reconcileNow } from "./reconciliation";
import { routerApp } from "./router.app";

export { DastraRateLimiter } from "./dastraRateLimiter";
export { EventLog } from "./eventLog";
export { RouterCallbacks } from "./routerCallbacks";

export default {
  fetch: routerApp.fetch,
  // Every 5 minutes: re-read Dastra for what webhooks may have missed.
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(reconcileNow(env));
  },
} satisfies ExportedHandler<Env>;

import { type Env, eventLogStub } from "./env";
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
    // Retention and erasure also run in every alarm; this covers a log with nothing else due.
    ctx.waitUntil(eventLogStub(env).pruneStoredBodies());
  },
} satisfies ExportedHandler<Env>;

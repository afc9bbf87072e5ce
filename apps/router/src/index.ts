import { type Env, eventLogStub } from "./env";
import { reconcileNow } from "./reconcile/reconciliation";
import { routerApp } from "./router.app";

export { DastraRateLimiter } from "./dastraApi/dastraRateLimiter";
export { RouterCallbacks } from "./delivery/routerCallbacks";
export { EventLog } from "./eventLog/eventLog";

export default {
  fetch: routerApp.fetch,
  // Every 5 minutes: re-read Dastra for what webhooks may have missed.
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(reconcileNow(env));
    // Retention and erasure also run in every alarm; this covers a log with nothing else due.
    ctx.waitUntil(eventLogStub(env).pruneStoredBodies());
  },
} satisfies ExportedHandler<Env>;

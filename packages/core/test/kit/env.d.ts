import type { KitTestEnv } from "./kitTestWorker";

declare global {
  namespace Cloudflare {
    interface Env extends KitTestEnv {}
  }
}

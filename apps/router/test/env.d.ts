import type { Env as RouterEnv } from "../src/env";

declare global {
  namespace Cloudflare {
    interface Env extends RouterEnv {}
  }
}

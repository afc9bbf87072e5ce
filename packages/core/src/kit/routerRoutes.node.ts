// Node-only (vitest configs): the router's ROUTES from apps/router/wrangler.jsonc, so a connector's contract test
// compares its describe() with what the router really routes. Never import it from a worker.
import { unstable_readConfig } from "wrangler";

export interface RouterRoute {
  binding: string;
  label: string;
  events: string[];
}

/** ROUTES of the router's wrangler config at `configPath` (e.g. `<repo>/apps/router/wrangler.jsonc`). */
export function readRouterRoutes(configPath: string): Record<string, RouterRoute> {
  const config = unstable_readConfig({ config: configPath });
  const routes = (config.vars as Record<string, unknown>).ROUTES;
  if (!routes || typeof routes !== "object") throw new Error(`${configPath} has no ROUTES var`);
  return routes as Record<string, RouterRoute>;
}

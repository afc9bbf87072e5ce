// readRouterRoutes (Node, for connectors' vitest configs) reads the router's real ROUTES.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { readRouterRoutes } from "../src/kit/routerRoutes.node";

it("reads ROUTES from apps/router/wrangler.jsonc", () => {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const routes = readRouterRoutes(path.resolve(here, "../../../apps/router/wrangler.jsonc"));
  expect(Object.keys(routes).sort()).toEqual(["cms", "crm", "tasks"]);
  expect(routes.crm).toMatchObject({ binding: "CONNECTOR_CRM", label: "CRM (HubSpot)" });
  expect(routes.crm?.events).toContain("DataSubjectCreation");
});

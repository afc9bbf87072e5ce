// Companies → Dastra Actors across real workers, under scaled rate windows (sandbox RATE_WINDOW_SCALE and the
// router's shared limiter scaled alike): 2,000 companies, an injected HubSpot outage mid-run, zero Dastra 429s.
import type { Actor } from "@dastra/core/dastraSchemas";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CRM_ADMIN, startCrmStack } from "./crmStack";
import { sandboxControl, sandboxDastra, waitFor } from "./routerHarness";
import type { LocalStack } from "./stack/localStack";

const SCALE = "10"; // Dastra: 500 per 6 s and 10,000 per 60 s; HubSpot: 100 per 1 s
let stack: LocalStack;
beforeAll(async () => {
  stack = await startCrmStack({
    vars: { sandbox: { RATE_WINDOW_SCALE: SCALE }, router: { DASTRA_RATE_WINDOW_SCALE: SCALE } },
  });
});
afterAll(() => stack?.dispose());

type SyncStatus = {
  running: boolean;
  mapped: number;
  failures: number;
  lastError: string | null;
  lastRun: {
    seen: number;
    created: number;
    patched: number;
    unchanged: number;
    tagged: number;
    resumed: boolean;
  } | null;
};

async function syncAdmin(method: "GET" | "POST"): Promise<SyncStatus> {
  const res = await fetch(`${stack.url("connector-crm")}/admin/company-sync`, { method, headers: CRM_ADMIN });
  expect(res.status).toBe(method === "POST" ? 202 : 200);
  return (await res.json()) as SyncStatus;
}

async function allActors(): Promise<Actor[]> {
  const actors: Actor[] = [];
  for await (const a of sandboxDastra(stack).actors.iterate({ size: 500 })) actors.push(a);
  return actors;
}

async function dastra429s(): Promise<number> {
  const { refused } = (await sandboxControl(stack, "/dastra/rate-refusals")) as { refused: Record<string, number> };
  return Object.values(refused).reduce((n, c) => n + c, 0);
}

describe("companies → Actors", () => {
  it("syncs 2,000 companies once each, resuming after an outage, with no Dastra 429", async () => {
    await sandboxControl(stack, "/hubspot/companies", "POST", { count: 2000 });
    const started = await syncAdmin("POST");
    expect(started.running).toBe(true);
    // Mid-run, HubSpot goes down and stays down past the client's retries: the run stops, keeping its cursor.
    await waitFor("first actors", async () => (await syncAdmin("GET")).mapped >= 300, 60_000);
    await sandboxControl(stack, "/faults/hubspot", "PUT", { outageUntil: Date.now() + 300_000 });
    const stopped = await waitFor(
      "the run to stop",
      async () => {
        const s = await syncAdmin("GET");
        return s.failures > 0 && s;
      },
      60_000,
    );
    expect(stopped.lastError).toContain("503");
    expect(stopped.running).toBe(true);
    await sandboxControl(stack, "/faults/hubspot", "DELETE");
    const done = await waitFor(
      "sync done",
      async () => {
        const s = await syncAdmin("GET");
        return (!s.running && s.lastRun && s) || undefined;
      },
      240_000,
    );
    // Resumed from the cursor: each page listed once (seen), each company created once.
    expect(done.lastRun).toMatchObject({ resumed: true, seen: 2001, created: 2001, patched: 0, tagged: 0 });
    expect(done.mapped).toBe(2001); // + Acme SAS of the default seed

    const actors = await allActors();
    const byMarker = new Map<string, number>();
    for (const a of actors) {
      const marker = /^HubSpot company (\d+)$/.exec(String(a.description ?? ""))?.[1];
      if (marker) byMarker.set(marker, (byMarker.get(marker) ?? 0) + 1);
    }
    expect(byMarker.size).toBe(2001);
    expect([...byMarker.values()].every((n) => n === 1)).toBe(true);
    const one = actors.find((a) => a.description === "HubSpot company 500123");
    expect(one).toMatchObject({
      actorType: "Morale",
      companyName: "Company 500123",
      websiteUrl: "https://c500123.example",
    });
    expect(await dastra429s()).toBe(0);
  }, 360_000);

  it("patches only what changed and tags a company deleted in HubSpot instead of deleting its Actor", async () => {
    const hubspot = (method: string, path: string, body?: unknown) =>
      fetch(`${stack.url("sandbox")}/hubspot${path}`, {
        method,
        headers: { authorization: "Bearer sandbox-hubspot", "content-type": "application/json" },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
    expect(
      (await hubspot("PATCH", "/crm/v3/objects/companies/500002", { properties: { name: "Renamed SA" } })).status,
    ).toBe(200);
    expect((await hubspot("DELETE", "/crm/v3/objects/companies/500010")).status).toBe(204);
    await syncAdmin("POST");
    const done = await waitFor(
      "second sync",
      async () => {
        const s = await syncAdmin("GET");
        return (!s.running && s.lastRun?.resumed === false && s) || undefined;
      },
      100_000,
    );
    expect(done.lastRun).toMatchObject({ created: 0, patched: 1, tagged: 1, unchanged: 1999 });
    const actors = await allActors();
    expect(actors.find((a) => a.description === "HubSpot company 500002")?.companyName).toBe("Renamed SA");
    const deleted = actors.find((a) => a.description === "HubSpot company 500010") as Actor & {
      tags?: { label: string }[];
    };
    expect(deleted.tags?.map((t) => t.label)).toEqual(["Deleted in HubSpot"]);
    expect(await dastra429s()).toBe(0);
  }, 120_000);
});

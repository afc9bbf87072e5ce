// `pnpm dastra:webhooks register|list|remove` against the sandbox's WebHookUrls API, as an operator runs it.
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sandboxDastra } from "./routerHarness";
import { type LocalStack, REPO_ROOT, startStack } from "./stack/localStack";

const run = promisify(execFile);
const ROUTER_URL = "http://127.0.0.1:8787";
let stack: LocalStack;

beforeAll(async () => {
  stack = await startStack({ workers: ["sandbox"], seed: "default" });
});
afterAll(async () => {
  await stack?.dispose();
});

async function command(...args: string[]): Promise<string> {
  const sandbox = stack.url("sandbox");
  const { stdout } = await run(
    process.execPath,
    ["--import", "tsx", path.join(REPO_ROOT, "apps/router/scripts/dastraWebhooks.ts"), ...args],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, DASTRA_API_URL: sandbox, DASTRA_TOKEN_URL: `${sandbox}/connect/token`, ROUTER_URL },
    },
  );
  return stdout;
}

describe("dastra:webhooks command", () => {
  it("registers exactly the event types ROUTES and the router itself need, prints the key as a secret instruction, lists and removes", async () => {
    const out = await command("register");
    expect(out).toMatch(/Registered #\d+ http:\/\/127\.0\.0\.1:8787\/webhooks\/dastra/);
    expect(out).toContain("wrangler secret put DASTRA_WEBHOOK_KEYS");
    const hooks = (await sandboxDastra(stack).webHookUrls.list()).filter(
      (w) => w.url === `${ROUTER_URL}/webhooks/dastra`,
    );
    expect(hooks).toHaveLength(1);
    expect([...(hooks[0]?.subscribedEvents ?? [])].sort()).toEqual(
      [
        "DataSubjectArchived",
        "DataSubjectCreation",
        "DataSubjectIdentityValidated",
        "DataSubjectRequestProcessed",
        "DataSubjectStateChange",
        "DataSubjectUpdate",
        "TaskArchived",
        "TaskAssigned",
        "TaskChangeState",
        "TaskCreation",
        "TaskEdit",
      ].sort(),
    );
    expect(out).toContain(`value: ${hooks[0]?.signatureKey}`);

    expect(await command("register")).toContain("Already registered");
    const listed = await command("list");
    expect(listed).toContain("(this router)");
    expect(listed).not.toContain(String(hooks[0]?.signatureKey));

    expect(await command("remove")).toContain(`Removed #${hooks[0]?.id}`);
    expect((await sandboxDastra(stack).webHookUrls.list()).some((w) => w.url === `${ROUTER_URL}/webhooks/dastra`)).toBe(
      false,
    );
  });
});

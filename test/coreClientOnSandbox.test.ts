// The core client's own behaviour cases (packages/core/test/dastraClientBehaviour.cases.ts), unchanged, against
// the sandbox's Dastra emulator running as built in a local stack, next to core's run against its double.
// That every emulator answer matches Dastra's OpenAPI response schemas is proven by
// apps/sandbox/test/node/dastraOpenApi.test.ts (same client calls), so it is not repeated here.
import { afterAll, beforeAll } from "vitest";
import type { ClientTarget } from "../packages/core/test/clientTarget";
import { describeDastraClientBehaviour } from "../packages/core/test/dastraClientBehaviour.cases";
import { type LocalStack, startStack } from "./stack/localStack";

let stack: LocalStack;
let target: ClientTarget;
beforeAll(async () => {
  stack = await startStack({ workers: ["sandbox"], seed: "default" });
  const apiUrl = stack.url("sandbox");
  target = {
    name: `sandbox emulator ${apiUrl}`,
    areaId: 1,
    options: {
      apiUrl,
      tokenUrl: `${apiUrl}/connect/token`,
      publicKey: "sandbox-public",
      privateKey: "sandbox-private",
      workspaceId: 1,
      retry: { baseDelayMs: 20, maxDelayMs: 2000 },
    },
    close: async () => {},
  };
});
afterAll(async () => {
  await stack?.dispose();
});

describeDastraClientBehaviour(() => target);

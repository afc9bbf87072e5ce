// The client's behaviour cases against the local double by default, or any Dastra-compatible API
// (DASTRA_API_URL=..., e.g. the sandbox's emulator). The cases live in dastraClientBehaviour.cases.ts.
import { afterAll, beforeAll } from "vitest";
import { type ClientTarget, openClientTarget } from "./clientTarget";
import { describeDastraClientBehaviour } from "./dastraClientBehaviour.cases";

let target: ClientTarget;
beforeAll(async () => {
  target = await openClientTarget();
});
afterAll(() => target.close());

describeDastraClientBehaviour(() => target);

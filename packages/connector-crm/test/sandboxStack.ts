import { type LocalStack, startStack } from "../../../test/stack/localStack";
import type { HubspotRequest } from "../src/hubspot/hubspotRequest";

// The sandbox alone in Miniflare, for the HubSpot module's tests against the emulator over real HTTP.

export async function startSandbox(): Promise<LocalStack> {
  return startStack({ workers: ["sandbox"], seed: "default" });
}

/** A plain fetch-based HubSpot request function (the worker passes the kit's provider client instead). */
export function sandboxHubspot(stack: LocalStack, calls: string[] = []): HubspotRequest {
  return async (method, path, init = {}) => {
    const url = new URL(`${stack.url("sandbox")}/hubspot${path}`);
    for (const [k, v] of Object.entries(init.query ?? {})) url.searchParams.set(k, v);
    calls.push(`${method} ${path}`);
    return fetch(url, {
      method,
      headers: { authorization: "Bearer sandbox-hubspot", "content-type": "application/json" },
      ...(init.json === undefined ? {} : { body: JSON.stringify(init.json) }),
    });
  };
}

export async function sandboxControl<T = { results: never[] }>(
  stack: LocalStack,
  method: string,
  path: string,
  body?: unknown,
) {
  const res = await fetch(`${stack.url("sandbox")}/_sandbox${path}`, {
    method,
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`sandbox ${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json() as Promise<T>;
}

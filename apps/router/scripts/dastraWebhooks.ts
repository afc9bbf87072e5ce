// pnpm dastra:webhooks register|list|remove
// Manages the router's webhook in Dastra, subscribed to exactly the event types the ROUTES table needs.
// Environment (defaults: the local sandbox contract): DASTRA_API_URL, DASTRA_TOKEN_URL, DASTRA_PUBLIC_KEY,
// DASTRA_PRIVATE_KEY, DASTRA_WORKSPACE_ID, ROUTER_URL.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { NOTIFICATION_CHANNELS, type NotificationChannel } from "@dastra/core";
import { createDastraClient } from "@dastra/core/dastraClient";
import { unstable_readConfig } from "wrangler";
import { routesFrom, subscribedEventTypes } from "../src/delivery/routingTable";
import type { JsonVar } from "../src/jsonVar";

const env = process.env;
const settings = {
  apiUrl: env.DASTRA_API_URL ?? "http://127.0.0.1:8788",
  tokenUrl: env.DASTRA_TOKEN_URL ?? "http://127.0.0.1:8788/connect/token",
  publicKey: env.DASTRA_PUBLIC_KEY ?? "sandbox-public",
  privateKey: env.DASTRA_PRIVATE_KEY ?? "sandbox-private",
  workspaceId: Number(env.DASTRA_WORKSPACE_ID ?? "1"),
  routerUrl: (env.ROUTER_URL ?? "http://127.0.0.1:8787").replace(/\/+$/, ""),
};
const webhookUrl = `${settings.routerUrl}/webhooks/dastra`;

function neededEventTypes(): NotificationChannel[] {
  const configPath = path.join(path.dirname(fileURLToPath(import.meta.url)), "../wrangler.jsonc");
  const config = unstable_readConfig({ config: configPath });
  const wanted = subscribedEventTypes(routesFrom({ ROUTES: config.vars.ROUTES as JsonVar }));
  return wanted === "*" ? [...NOTIFICATION_CHANNELS] : NOTIFICATION_CHANNELS.filter((c) => wanted.includes(c));
}

const sameEvents = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && [...a].sort().join() === [...b].sort().join();

function printSecretInstruction(key: string | null | undefined): void {
  if (!key) {
    console.log("Dastra did not return the signature key; read it in Dastra's webhook settings.");
    return;
  }
  // Printed once, to this terminal only: it is the secret that authenticates Dastra to the router.
  console.log(
    "\nStore the signature key in the router (newest first; keep the previous key after a comma until old deliveries stop):",
  );
  console.log(`  cd apps/router && npx wrangler secret put DASTRA_WEBHOOK_KEYS`);
  console.log(`  value: ${key}`);
}

async function main(command: string | undefined): Promise<number> {
  const client = createDastraClient(settings);
  const mine = async () => (await client.webHookUrls.list()).filter((w) => w.url === webhookUrl);
  switch (command) {
    case "list": {
      const hooks = await client.webHookUrls.list();
      if (hooks.length === 0) console.log(`No webhook in workspace ${settings.workspaceId}.`);
      for (const w of hooks) {
        const flag = w.url === webhookUrl ? " (this router)" : "";
        console.log(
          `#${w.id} ${w.url}${flag}: ${w.subscribedEvents?.length ?? 0} events, errors ${w.nbErrors ?? 0}${w.inError ? ", BLOCKED" : ""}`,
        );
        console.log(`    ${(w.subscribedEvents ?? []).join(", ")}`);
      }
      return 0;
    }
    case "register": {
      const events = neededEventTypes();
      const existing = await mine();
      const current = existing.find((w) => sameEvents(w.subscribedEvents ?? [], events) && !w.inError);
      if (current) {
        console.log(
          `Already registered: #${current.id} ${webhookUrl} with the ${events.length} event types ROUTES needs.`,
        );
        return 0;
      }
      const created = await client.webHookUrls.create({
        url: webhookUrl,
        workSpaceId: settings.workspaceId,
        subscribedEvents: events,
      });
      // An outdated or blocked registration for the same URL would deliver twice or not at all: replaced.
      for (const w of existing) await client.webHookUrls.delete(w.id);
      console.log(`Registered #${created.id} ${webhookUrl} for ${events.length} event types: ${events.join(", ")}`);
      if (existing.length > 0)
        console.log(`Removed the previous registration(s): ${existing.map((w) => `#${w.id}`).join(", ")}`);
      printSecretInstruction(created.signatureKey);
      return 0;
    }
    case "remove": {
      const existing = await mine();
      for (const w of existing) await client.webHookUrls.delete(w.id);
      console.log(
        existing.length
          ? `Removed ${existing.map((w) => `#${w.id}`).join(", ")} (${webhookUrl}).`
          : `No webhook for ${webhookUrl}.`,
      );
      return 0;
    }
    default:
      console.error("usage: pnpm dastra:webhooks register|list|remove");
      return 2;
  }
}

main(process.argv[2]).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`dastra:webhooks failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);

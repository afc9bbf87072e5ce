import { InboundEntryRejected, inboundInbox } from "@dastra/core/kit/inboundWebhook";
import { type CrmEnv, crmState, INBOX } from "../crmEnv";

/**
 * The kit's inbox Durable Object for HubSpot batches (bound as WEBHOOK_INBOX): each verified batch is processed from
 * its alarm into DSRs by CrmState (a throw is retried with backoff, up to 8 times;
 * a body that is not a batch is kept as dead at once, for an operator).
 */
export class WebhookInbox extends inboundInbox<CrmEnv>({
  name: "crm",
  process: async (entry, { env }) => {
    const result = await crmState(env, INBOX).processBatch(entry.body);
    if (result.rejected) throw new InboundEntryRejected(result.rejected);
  },
}) {}

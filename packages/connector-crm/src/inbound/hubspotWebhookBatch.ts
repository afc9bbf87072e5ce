import * as z from "zod/mini";

// HubSpot's webhook deliveries: a JSON array of up to 100 events (developers.hubspot.com, "Webhooks API":
// eventId is not unique, no ordering guarantee, duplicates possible; contact.privacyDeletion comes with a
// contact.deletion for the same contact, in any order).

export const HUBSPOT_BATCH_MAX = 100;

const hubspotEvent = z.looseObject({
  eventId: z.optional(z.number()),
  subscriptionType: z.string(),
  objectId: z.number(),
  portalId: z.optional(z.number()),
  occurredAt: z.optional(z.number()),
  propertyName: z.optional(z.string()),
  propertyValue: z.optional(z.string()),
});
export type HubspotWebhookEvent = z.infer<typeof hubspotEvent>;

const hubspotBatch = z.array(hubspotEvent).check(z.minLength(1), z.maxLength(HUBSPOT_BATCH_MAX));

/** Parses a delivery; throws a message naming what is wrong (answered 400 by the intake). */
export function parseHubspotBatch(body: unknown): HubspotWebhookEvent[] {
  const parsed = hubspotBatch.safeParse(body);
  if (!parsed.success)
    throw new Error(
      `expected a JSON array of 1 to ${HUBSPOT_BATCH_MAX} HubSpot events with subscriptionType and objectId`,
    );
  return parsed.data;
}

/** A privacy request made on the HubSpot side, to become one DSR in Dastra. */
export interface InboundPrivacyRequest {
  /** Exactly-once key: one DSR per contact and request, whatever HubSpot repeats or reorders. */
  key: string;
  kind: "privacyDeletion" | "privacyRequestProperty";
  portalId: number | null;
  contactId: string;
  /** The property value that asked (privacy request property), for the DSR's description. */
  requested: string | null;
}

/**
 * The privacy requests a batch holds: `contact.privacyDeletion` per contact, and a change of the configured
 * "privacy request" contact property to a non-empty value. Everything else (contact.deletion, other changes)
 * creates nothing. Duplicates inside the batch are folded here; across batches, the key does it.
 */
export function privacyRequestsIn(
  events: HubspotWebhookEvent[],
  privacyRequestProperty: string | null,
): InboundPrivacyRequest[] {
  const found = new Map<string, InboundPrivacyRequest>();
  for (const e of events) {
    const portal = e.portalId ?? null;
    const contactId = String(e.objectId);
    if (e.subscriptionType === "contact.privacyDeletion") {
      const key = `hubspot:${portal ?? "-"}:privacyDeletion:${contactId}`;
      found.set(key, { key, kind: "privacyDeletion", portalId: portal, contactId, requested: null });
    } else if (
      e.subscriptionType === "contact.propertyChange" &&
      privacyRequestProperty &&
      e.propertyName === privacyRequestProperty &&
      e.propertyValue
    ) {
      const key = `hubspot:${portal ?? "-"}:privacyRequest:${contactId}:${e.propertyValue}`;
      found.set(key, {
        key,
        kind: "privacyRequestProperty",
        portalId: portal,
        contactId,
        requested: e.propertyValue,
      });
    }
  }
  return [...found.values()];
}

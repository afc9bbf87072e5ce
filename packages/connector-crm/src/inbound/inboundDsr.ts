import type { DastraClient } from "@dastra/core/dastraClient";
import type { DataSubjectRequest } from "@dastra/core/dastraSchemas";
import type { CrmProvider } from "../crmProvider";
import type { InboundPrivacyRequest } from "./hubspotWebhookBatch";

/**
 * Creates the Dastra DSR for one HubSpot privacy request, once: `refId` carries the request's key, and it is looked up
 * before creating (a crash after the create and before our record of it finds the DSR instead of making a second).
 * The subject's email and names come from the contact when HubSpot still has it (a privacy deletion usually leaves
 * nothing to read: then the DSR names the HubSpot contact id only).
 */
export async function createInboundDsr(options: {
  dastra: DastraClient;
  crm: CrmProvider;
  request: InboundPrivacyRequest;
  areaId: number;
}): Promise<DataSubjectRequest> {
  const { dastra, crm, request } = options;
  const lookup = async () =>
    (
      await dastra.dataSubjectRequests.list({
        filters: { field: "refId", operator: "equal", value: request.key },
        size: 1,
      })
    ).items[0];
  const existing = await lookup();
  if (existing) return existing;
  const identity = await crm.readContactIdentity(request.contactId);
  const deletion = request.kind === "privacyDeletion";
  return dastra.dataSubjectRequests.create(
    {
      title: deletion
        ? `HubSpot: privacy deletion of contact ${request.contactId}`
        : `HubSpot: privacy request (${request.requested}) from contact ${request.contactId}`,
      areaId: options.areaId,
      locale: "en",
      purposes: deletion ? ["Erasure"] : ["Unknown"],
      email: identity?.email ?? null,
      givenName: identity?.firstname ?? null,
      familyName: identity?.lastname ?? null,
      refId: request.key,
      description: deletion
        ? `Received from HubSpot (portal ${request.portalId ?? "unknown"}): contact ${request.contactId} was deleted there for privacy compliance (contact.privacyDeletion).`
        : `Received from HubSpot (portal ${request.portalId ?? "unknown"}): contact ${request.contactId} set the privacy request property to "${request.requested}".`,
    },
    { idempotency: { lookup } },
  );
}

import type { FinalConnectorOutcome } from "@dastra/core/connectorContract";
import type { JobContext } from "@dastra/core/kit/connectorJob";
import { attachOnce } from "@dastra/core/kit/dastraSideEffects";
import { sleep } from "@dastra/core/rateLimiter";
import type { CrmConfig } from "../crmConfig";
import { type CrmEnv, crmState, INBOX } from "../crmEnv";
import type { ErasureAnswer } from "../crmProvider";
import { deletionRecord, deletionRecordFile } from "../erasure/deletionRecord";
import { emailHash } from "../erasure/emailHash";
import { hubspotFor } from "../hubspot/hubspotConnection";
import type { DsrJobInput } from "./accessFlow";

const VERIFY_POLL_MS = 1000;

/**
 * Erasure: never before the DSR's identity is validated (the job parks in waitFor without holding a worker), then
 * HubSpot's GDPR delete for every contact with the email (or by email, which blocklists it, when none exists), a
 * deletion record attached (ids and types found, HubSpot's answers, never the data), a check that each contact reads
 * 404 within ERASURE_VERIFY_SECONDS, and a tombstone of the email's hash.
 */
export async function erasureFlow(job: JobContext<CrmEnv, CrmConfig>): Promise<FinalConnectorOutcome> {
  const { dsrId } = job.input as unknown as DsrJobInput;
  const dsr = await job.dastra.dataSubjectRequests.get(dsrId);
  if (dsr.identityValidated !== true) await job.waitFor("identityValidated");
  const crm = hubspotFor(job.config, job.log, job.env);
  const email = dsr.email?.trim();
  if (!email)
    return { status: "failed", reason: "the DSR has no email to erase", summary: "CRM (HubSpot): no email on the DSR" };
  const requestedAt = await job.step("started", async () => new Date().toISOString());
  const found = await job.step("find", async () => {
    const ids = (await crm.findContacts(email)).map((m) => m.id);
    const records = [];
    for (const id of ids) {
      const data = await crm.exportContact(id);
      if (data)
        records.push({
          contactId: id,
          companies: data.associated.companies.map((r) => r.id),
          deals: data.associated.deals.map((r) => r.id),
          notes: data.associated.notes.map((r) => r.id),
        });
    }
    return records;
  });
  // Before deleting: HubSpot's privacyDeletion webhook about our own deletion must find the tombstone.
  await job.step("tombstone", async () => {
    await crmState(job.env, INBOX).tombstone(
      await emailHash(email),
      found.map((f) => f.contactId),
      dsrId,
    );
    return true;
  });
  const answers: ErasureAnswer[] = [];
  for (const f of found) {
    answers.push(
      await job.step(`gdpr-delete:${f.contactId}`, async () => ({
        ...(await crm.eraseContact({ contactId: f.contactId })),
      })),
    );
  }
  if (found.length === 0)
    answers.push(await job.step("gdpr-delete:email", async () => ({ ...(await crm.eraseContact({ email })) })));
  const verification = await job.step("verify", async () => {
    const deadline = Date.now() + job.config.ERASURE_VERIFY_SECONDS * 1000;
    for (;;) {
      const remaining = [];
      for (const f of found) if (await crm.contactExists(f.contactId)) remaining.push(f.contactId);
      if (remaining.length === 0) return { verified: true, at: new Date().toISOString(), remaining };
      if (Date.now() >= deadline) return { verified: false, at: new Date().toISOString(), remaining };
      await sleep(VERIFY_POLL_MS);
    }
  });
  await job.step("record", async () => {
    const record = deletionRecord(
      dsrId,
      requestedAt,
      found.map((f) => ({
        contact: { type: "contacts", id: f.contactId, properties: {} },
        associated: {
          companies: f.companies.map((id) => ({ type: "companies", id, properties: {} })),
          deals: f.deals.map((id) => ({ type: "deals", id, properties: {} })),
          notes: f.notes.map((id) => ({ type: "notes", id, properties: {} })),
        },
        missing: [],
      })),
      answers,
    );
    record.verified = found.length ? verification.verified : null;
    record.verifiedAt = verification.at;
    const attachment = await attachOnce(job.dastra, dsrId, deletionRecordFile(record));
    return attachment.id;
  });
  const details = { contacts: found.length, verified: verification.verified };
  if (found.length === 0)
    return {
      status: "done",
      summary: "CRM (HubSpot): no record in the CRM; the email is blocklisted by HubSpot's GDPR delete",
      details,
    };
  if (!verification.verified)
    return {
      status: "done",
      needsReview: true,
      summary: `CRM (HubSpot): GDPR delete requested for ${found.length} contact(s), but ${verification.remaining.length} still read(s) after ${job.config.ERASURE_VERIFY_SECONDS} s: check HubSpot`,
      details,
    };
  return {
    status: "done",
    summary: `CRM (HubSpot): ${found.length} contact(s) erased by GDPR delete (verified: reads 404; deletion record attached)`,
    details,
  };
}

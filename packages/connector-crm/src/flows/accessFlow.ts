import type { FinalConnectorOutcome } from "@dastra/core/connectorContract";
import type { JobContext } from "@dastra/core/kit/connectorJob";
import { attachOnce } from "@dastra/core/kit/dastraSideEffects";
import type { CrmConfig } from "../crmConfig";
import type { CrmEnv } from "../crmEnv";
import { crmState, INBOX } from "../crmEnv";
import { emailHash } from "../erasure/emailHash";
import { contactExportCsv, contactExportJson, exportCounts, exportSummary } from "../export/contactExportFiles";
import { hubspotFor } from "../hubspot/hubspotConnection";

export interface DsrJobInput {
  dsrId: number;
}

/** The DSR's email, re-read from Dastra (the job input carries ids only, never the address). */
export async function subjectEmail(job: JobContext<CrmEnv, CrmConfig>, dsrId: number): Promise<string | null> {
  const dsr = await job.dastra.dataSubjectRequests.get(dsrId);
  return dsr.email?.trim() || null;
}

/**
 * Access / Portability: every contact with the DSR's email (primary or secondary) is exported with its companies,
 * deals and notes, and attached as JSON and CSV. Also used by Rectification (`purpose: "rectification"`), whose
 * files are the current values for the operator to compare.
 */
export async function accessFlow(
  job: JobContext<CrmEnv, CrmConfig>,
  purpose: "access" | "rectification" = "access",
): Promise<FinalConnectorOutcome> {
  const { dsrId } = job.input as unknown as DsrJobInput;
  const crm = hubspotFor(job.config, job.log, job.env);
  // The first run's time: a re-run builds the same bytes, so the same files are found instead of uploaded twice.
  const startedAt = await job.step("started", async () => new Date().toISOString());
  const contactIds = await job.step("find", async () => {
    const email = await subjectEmail(job, dsrId);
    if (!email) return null;
    return (await crm.findContacts(email)).map((m) => m.id);
  });
  if (contactIds === null)
    return {
      status: "failed",
      reason: "the DSR has no email to look up",
      summary: "CRM (HubSpot): no email on the DSR",
    };
  if (contactIds.length === 0) {
    const email = await subjectEmail(job, dsrId);
    const erased = email ? await crmState(job.env, INBOX).tombstoneOf(await emailHash(email)) : null;
    return {
      status: "done",
      summary: erased
        ? `CRM (HubSpot): no record in the CRM (erased on ${erased.erasedAt.slice(0, 10)} for DSR ${erased.dsrId})`
        : "CRM (HubSpot): no record in the CRM",
      details: { contacts: 0 },
    };
  }
  const counts = { contacts: 0, companies: 0, deals: 0, notes: 0, missing: 0 };
  for (const id of contactIds) {
    const done = await job.step(`${purpose}:${id}`, async () => {
      const data = await crm.exportContact(id);
      if (!data) return null;
      const json = contactExportJson(data, startedAt);
      const csv = contactExportCsv(data);
      if (purpose === "rectification") {
        json.name = json.name.replace(".json", "-current-values.json");
        csv.name = csv.name.replace(".csv", "-current-values.csv");
      }
      await attachOnce(job.dastra, dsrId, json);
      await attachOnce(job.dastra, dsrId, csv);
      return { ...exportCounts(data), missing: data.missing.reduce((n, m) => n + m.ids.length, 0) };
    });
    if (!done) continue;
    counts.contacts++;
    counts.companies += done.companies;
    counts.deals += done.deals;
    counts.notes += done.notes;
    counts.missing += done.missing;
  }
  if (counts.contacts === 0)
    return { status: "done", summary: "CRM (HubSpot): no record in the CRM", details: { contacts: 0 } };
  const line = exportSummary(counts);
  const missing = counts.missing ? `; ${counts.missing} associated records could not be read` : "";
  return {
    status: "done",
    summary:
      purpose === "access"
        ? `CRM (HubSpot): ${line}${missing}`
        : `CRM (HubSpot): current values of ${counts.contacts} contact(s) attached for comparison (no automatic change)${missing}`,
    details: counts,
    ...(counts.missing ? { needsReview: true } : {}),
  };
}

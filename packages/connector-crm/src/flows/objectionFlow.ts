import type { FinalConnectorOutcome } from "@dastra/core/connectorContract";
import type { JobContext } from "@dastra/core/kit/connectorJob";
import type { CrmConfig } from "../crmConfig";
import type { CrmEnv } from "../crmEnv";
import { hubspotFor } from "../hubspot/hubspotConnection";
import { type DsrJobInput, subjectEmail } from "./accessFlow";

/** Objection / Restriction: unsubscribe the email from all marketing email, read the status back, record it. */
export async function objectionFlow(job: JobContext<CrmEnv, CrmConfig>): Promise<FinalConnectorOutcome> {
  const { dsrId } = job.input as unknown as DsrJobInput;
  const crm = hubspotFor(job.config, job.log, job.env);
  const status = await job.step("unsubscribe-all", async () => {
    const email = await subjectEmail(job, dsrId);
    if (!email) return null;
    return { ...(await crm.unsubscribeFromAll(email)) };
  });
  if (!status)
    return { status: "failed", reason: "the DSR has no email", summary: "CRM (HubSpot): no email on the DSR" };
  const details = { status: status.status, changed: status.changed };
  if (!status.unsubscribedFromAll)
    return {
      status: "done",
      needsReview: true,
      summary: `CRM (HubSpot): unsubscribe from all email asked, but HubSpot reads back ${status.status}: check HubSpot`,
      details,
    };
  return {
    status: "done",
    summary: `CRM (HubSpot): unsubscribed from all marketing email (read back ${status.status}${status.changed ? "" : ", already so before"})`,
    details,
  };
}

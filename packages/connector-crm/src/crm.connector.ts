import type { ConnectorOutcome } from "@dastra/core/connectorContract";
import { type ConnectorHandler, defineConnector } from "@dastra/core/kit/defineConnector";
import { type CrmConfig, crmConfig } from "./crmConfig";
import type { CrmEnv } from "./crmEnv";
import { accessFlow } from "./flows/accessFlow";
import { dsrKey, flowsOf } from "./flows/dsrFlows";
import { erasureFlow } from "./flows/erasureFlow";
import { objectionFlow } from "./flows/objectionFlow";

const LABEL = "CRM (HubSpot)";

/** Several flows for one DSR: the first not-final outcome stands for all (the others finish and report on their own). */
function combine(outcomes: ConnectorOutcome[]): ConnectorOutcome {
  const pending = outcomes.find((o) => o.status === "retry") ?? outcomes.find((o) => o.status === "accepted");
  if (pending) return pending;
  const failed = outcomes.find((o) => o.status === "failed");
  if (failed) return failed;
  if (outcomes.length === 1) return outcomes[0] as ConnectorOutcome;
  return {
    status: "done",
    summary: outcomes.map((o) => ("summary" in o ? o.summary : "")).join(" | "),
    ...(outcomes.some((o) => o.status === "done" && o.needsReview) ? { needsReview: true } : {}),
  };
}

/**
 * Every DSR event: passes identity validation on to a parked erasure, then starts (or joins) one job per flow the
 * DSR's purposes ask for. A job runs once per DSR ever: a redelivery, a replay or a later event joins it or gets
 * its final outcome.
 */
const onDsrEvent: ConnectorHandler<CrmEnv, CrmConfig> = async ({ dsr, event, startJob, signalJob }) => {
  if (!dsr) return { status: "failed", reason: "the event carries no DSR", summary: `${LABEL}: no DSR in the event` };
  const key = dsrKey(dsr.id);
  if (event.eventType === "DataSubjectIdentityValidated" || dsr.identityValidated === true)
    await signalJob(key, "identityValidated", true);
  const flows = flowsOf(dsr);
  if (flows.length === 0)
    return {
      status: "done",
      summary: `${LABEL}: nothing to do for purposes ${(dsr.purposes ?? []).join(", ") || "none"}`,
    };
  const outcomes: ConnectorOutcome[] = [];
  for (const flow of flows) outcomes.push(await startJob(flow, key, { dsrId: dsr.id }));
  return combine(outcomes);
};

/** The CRM connector: DSR flows on HubSpot (access/portability, erasure, objection/restriction, rectification). */
export const crm = defineConnector<CrmEnv, CrmConfig>({
  name: "crm",
  label: LABEL,
  config: crmConfig,
  handlers: {
    DataSubjectCreation: onDsrEvent,
    DataSubjectUpdate: onDsrEvent,
    DataSubjectStateChange: onDsrEvent,
    DataSubjectIdentityValidated: onDsrEvent,
  },
  jobs: {
    access: (job) => accessFlow(job, "access"),
    rectification: (job) => accessFlow(job, "rectification"),
    objection: objectionFlow,
    erasure: erasureFlow,
  },
});

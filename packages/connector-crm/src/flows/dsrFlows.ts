import type { DataSubjectRequest } from "@dastra/core/dastraSchemas";

// Which CRM work a DSR's purposes ask for. A DSR may ask several (e.g. Access and Erasure): each is its own job.

export type CrmFlow = "access" | "erasure" | "objection" | "rectification";

const FLOW_OF_PURPOSE: Record<string, CrmFlow> = {
  Access: "access",
  Portability: "access",
  Erasure: "erasure",
  Opposition: "objection",
  Restriction: "objection",
  Rectification: "rectification",
};

/** The flows of a DSR, in a fixed order (exports before erasure), without duplicates. */
export function flowsOf(dsr: Pick<DataSubjectRequest, "purposes">): CrmFlow[] {
  const wanted = new Set((dsr.purposes ?? []).map((p) => FLOW_OF_PURPOSE[p]).filter((f): f is CrmFlow => !!f));
  return (["access", "rectification", "objection", "erasure"] as const).filter((f) => wanted.has(f));
}

/** The job key of a DSR: every job about one DSR runs serialised in one ConnectorJobs instance. */
export const dsrKey = (dsrId: number) => `dsr:${dsrId}`;

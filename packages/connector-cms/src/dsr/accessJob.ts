import type { FinalConnectorOutcome } from "@dastra/core/connectorContract";
import type { JobContext } from "@dastra/core/kit/connectorJob";
import { attachOnce } from "@dastra/core/kit/dastraSideEffects";
import { archiveToCloudStorage, stagingKey } from "../archive/archiveTarget";
import type { CmsConfig } from "../cmsConfig";
import type { CmsEnv } from "../cmsEnv";
import type { DocumentRef, DocumentStore } from "../documents/documentStore";
import { documentStoreFor } from "../documents/documentStoreFor";
import { RedactionError, type RedactionSubject, redactDocumentToBytes, redactionFormatOf } from "../redaction";
import { redactionSubjectOf, searchQueriesOf } from "./dataSubject";
import { typedStep } from "./jobStep";
import { buildManifest, type ManifestEntry, sourceOf } from "./manifest";

/** The job input: ids only (the DSR is re-read in the job). */
export interface DsrJobInput {
  dsrId: number;
}

export type CmsJob = JobContext<CmsEnv, CmsConfig>;

/** The discovery step's result, stored in the job's ledger (drive item references, no content). */
export interface Discovery {
  documents: DocumentRef[];
  skipped: { ref: DocumentRef; reason: string }[];
}

type Redacted =
  | {
      status: "redacted";
      key: string;
      attachName: string;
      contentType: string;
      format: string;
      counts: { email: number; phone: number; iban: number; name: number };
      csvRowsDropped: number;
      unredactedParts: string[];
    }
  | { status: "skipped"; reason: string };

/** Where a job's discovery result is kept: R2, since a long list would not fit the ledger's 32 KiB per step. */
const discoveryKey = (job: CmsJob) => `jobs/${job.jobId}/discovery.json`;

/**
 * Re-reads the DSR and searches the document store for its data subject, once (the step records where the list is);
 * the list itself lives in R2 until the job ends (removeDiscovery).
 */
export async function discoverStep(job: CmsJob, store: DocumentStore, dsrId: number): Promise<Discovery> {
  const key = await typedStep<string>(job, "discover", async () => {
    const dsr = await job.dastra.dataSubjectRequests.get(dsrId);
    const found = await store.discover(searchQueriesOf(dsr));
    await job.env.ARCHIVE.put(discoveryKey(job), JSON.stringify(found), {
      httpMetadata: { contentType: "application/json" },
    });
    return discoveryKey(job);
  });
  const stored = await job.env.ARCHIVE.get(key);
  if (stored) return (await stored.json()) as Discovery;
  // Removed only after the job's "outcome" step was recorded: a re-run past that point returns the outcome;
  // before it, the list was lost, and the job fails with that reason rather than report no documents.
  const outcome = await typedStep<FinalConnectorOutcome>(job, "outcome", async () => {
    throw new Error(`the discovery list ${key} is missing from R2`);
  });
  throw new RecordedOutcome(outcome);
}

/** Thrown by discoverStep when the job already ended: the runner returns the recorded outcome. */
export class RecordedOutcome extends Error {
  constructor(readonly outcome: FinalConnectorOutcome) {
    super("job already recorded its outcome");
  }
}

/** Runs a job body; a RecordedOutcome short-cuts to the outcome recorded by an earlier run. */
export async function withRecordedOutcome(body: () => Promise<FinalConnectorOutcome>): Promise<FinalConnectorOutcome> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof RecordedOutcome) return error.outcome;
    throw error;
  }
}

/** The discovery list names documents (and so, often, the subject): gone once the job has used it. */
export async function removeDiscovery(job: CmsJob): Promise<void> {
  await job.env.ARCHIVE.delete(discoveryKey(job));
}

/** "redacted - name.ext", made unique within the DSR (two drives may hold files of the same name). */
function attachmentNames(documents: DocumentRef[]): Map<string, string> {
  const names = new Map<string, string>();
  const used = new Set<string>();
  for (const ref of documents) {
    let name = `redacted - ${ref.name}`;
    for (let n = 2; used.has(name.toLowerCase()); n++) {
      const dot = ref.name.lastIndexOf(".");
      name =
        dot > 0 ? `redacted - ${ref.name.slice(0, dot)} (${n})${ref.name.slice(dot)}` : `redacted - ${ref.name} (${n})`;
    }
    used.add(name.toLowerCase());
    names.set(ref.itemId, name);
  }
  return names;
}

async function readStaged(env: CmsEnv, key: string): Promise<Uint8Array> {
  const object = await env.ARCHIVE.get(key);
  if (!object) throw new Error(`staged copy ${key} is missing from R2`);
  return new Uint8Array(await object.arrayBuffer());
}

/**
 * Access / portability: one step per document (redact to R2, attach once, archive), then the manifest.
 * A retry or a crash resumes at the first step not recorded; an interrupted attach or archive looks up before
 * uploading again, so nothing is attached twice. Unsupported and failed documents are listed, never attached.
 */
export function accessJob(job: CmsJob): Promise<FinalConnectorOutcome> {
  return withRecordedOutcome(() => runAccess(job));
}

async function runAccess(job: CmsJob): Promise<FinalConnectorOutcome> {
  const { dsrId } = job.input as unknown as DsrJobInput;
  const store = documentStoreFor(job.config, job.log, job.env.PROVIDER_LIMITER);
  const found = await discoverStep(job, store, dsrId);
  const names = attachmentNames(found.documents);
  const subject = await typedStep<RedactionSubject>(job, "subject", async () => {
    // Kept in the job's own ledger: the redaction needs the subject's identifiers in every step.
    const dsr = await job.dastra.dataSubjectRequests.get(dsrId);
    return redactionSubjectOf(dsr);
  });

  const documents: ManifestEntry[] = [];
  const skipped: ManifestEntry[] = found.skipped.map((s) => ({ source: sourceOf(s.ref), reason: s.reason }));
  for (const ref of found.documents) {
    const attachName = names.get(ref.itemId) as string;
    const redacted = await typedStep<Redacted>(job, `redact:${ref.itemId}`, async () => {
      if (!redactionFormatOf(ref.name)) return { status: "skipped", reason: "unsupported_format" };
      const file = await store.download(ref);
      try {
        const result = await redactDocumentToBytes({
          name: ref.name,
          contentType: file.contentType,
          body: file.body,
          subject,
          policy: { mode: "others", names: job.config.redactNames, dropCsvRows: job.config.csvDropRows },
        });
        if (result.status === "unsupported") return { status: "skipped", reason: "unsupported_format" };
        const key = stagingKey(dsrId, ref.itemId, attachName);
        await job.env.ARCHIVE.put(key, result.bytes, {
          httpMetadata: { contentType: result.contentType },
          customMetadata: { dsrId: String(dsrId), driveId: ref.driveId, itemId: ref.itemId, eTag: ref.eTag },
        });
        return {
          status: "redacted",
          key,
          attachName,
          contentType: result.contentType,
          format: result.format,
          counts: result.summary.counts,
          csvRowsDropped: result.summary.csvRowsDropped,
          unredactedParts: result.summary.unredactedParts,
        };
      } catch (error) {
        if (error instanceof RedactionError) return { status: "skipped", reason: `redaction_failed:${error.code}` };
        throw error;
      }
    });

    if (redacted.status === "skipped") {
      skipped.push({ source: sourceOf(ref), reason: redacted.reason });
      continue;
    }
    const attached = await typedStep<{ attachmentId: string; fileName: string }>(
      job,
      `attach:${ref.itemId}`,
      async () => {
        const bytes = await readStaged(job.env, redacted.key);
        const attachment = await attachOnce(job.dastra, dsrId, {
          name: redacted.attachName,
          type: redacted.contentType,
          bytes,
        });
        return { attachmentId: attachment.id, fileName: attachment.fileName ?? redacted.attachName };
      },
    );
    if (job.config.archive.target === "cloudStorage")
      await job.step(`archive:${ref.itemId}`, async (run) => {
        const bytes = await readStaged(job.env, redacted.key);
        const copy = await archiveToCloudStorage(
          job.dastra,
          job.config.archive.cloudProvider,
          dsrId,
          { name: `DSR ${dsrId} - ${redacted.attachName}`, type: redacted.contentType, bytes },
          run.recovering || job.attempt > 1,
        );
        return { target: copy.target, ref: copy.ref };
      });
    documents.push({
      source: sourceOf(ref),
      attachedAs: attached.fileName,
      format: redacted.format,
      redactions: redacted.counts,
      csvRowsDropped: redacted.csvRowsDropped,
      unredactedParts: redacted.unredactedParts,
    });
  }

  const manifest = buildManifest(dsrId, "access", documents, skipped);
  const manifestName = `documents manifest - DSR ${dsrId}.json`;
  await job.step("attach:manifest", async () => {
    const bytes = new TextEncoder().encode(JSON.stringify(manifest, null, 2));
    const attachment = await attachOnce(job.dastra, dsrId, { name: manifestName, type: "application/json", bytes });
    return { attachmentId: attachment.id };
  });
  if (job.config.archive.target !== "r2")
    await job.step("cleanup", async () => {
      // Staging only: the copies live in CloudStorage (or nowhere); keep no personal data longer than needed.
      const keys = found.documents.map((ref) => stagingKey(dsrId, ref.itemId, names.get(ref.itemId) as string));
      if (keys.length) await job.env.ARCHIVE.delete(keys);
      return keys.length;
    });

  const outcome = await typedStep<FinalConnectorOutcome>(job, "outcome", async () => ({
    status: "done",
    // A document listed for manual review needs a person: the router's report stays open until someone has looked.
    needsReview: skipped.length > 0,
    summary: `Documents: ${documents.length} redacted cop${documents.length === 1 ? "y" : "ies"} attached with a manifest; ${skipped.length} listed for manual review`,
    details: {
      attached: documents.length,
      skipped: skipped.length,
      maskedEmails: manifest.totals.email,
      maskedPhones: manifest.totals.phone,
      maskedIbans: manifest.totals.iban,
      maskedNames: manifest.totals.name,
      archive: job.config.archive.target,
    },
  }));
  await removeDiscovery(job);
  return outcome;
}

import type { FinalConnectorOutcome } from "@dastra/core/connectorContract";
import { attachOnce, createTaskOnce } from "@dastra/core/kit/dastraSideEffects";
import type { DocumentRef, DocumentStore } from "../documents/documentStore";
import { documentStoreFor } from "../documents/documentStoreFor";
import { RedactionError, type RedactionSubject, redactDocumentToBytes, redactionFormatOf } from "../redaction";
import { type CmsJob, type DsrJobInput, discoverStep, removeDiscovery, withRecordedOutcome } from "./accessJob";
import { redactionSubjectOf } from "./dataSubject";
import { typedStep } from "./jobStep";
import { buildManifest, type ManifestEntry, sourceOf } from "./manifest";

type Counts = { email: number; phone: number; iban: number; name: number };
type Erased =
  | { status: "replaced"; format: string; counts: Counts; reason?: never }
  | { status: "unchanged"; format: string; counts: Counts; reason?: never }
  | { status: "modified"; reason: string }
  | { status: "refused"; reason: string }
  | { status: "skipped"; reason: string };

/**
 * Replaces one document with a version masking the subject's data, if it is still the version read at discovery:
 * a download serving another version, or a replace refused by If-Match (412), means someone changed it meanwhile,
 * and it is reported, not overwritten. When recovering from an interrupted attempt, a changed version that no
 * longer holds anything of the subject is taken as our own earlier write.
 */
async function eraseInPlace(
  store: DocumentStore,
  ref: DocumentRef,
  subject: RedactionSubject,
  recovering: boolean,
): Promise<Erased> {
  if (!redactionFormatOf(ref.name)) return { status: "skipped", reason: "unsupported_format" };
  const file = await store.download(ref);
  const changed = file.eTag !== null && file.eTag !== ref.eTag;
  if (changed && !recovering) {
    await file.body.cancel();
    return { status: "modified", reason: "modified_since_read" };
  }
  let result: Awaited<ReturnType<typeof redactDocumentToBytes>>;
  try {
    result = await redactDocumentToBytes({
      name: ref.name,
      contentType: file.contentType,
      body: file.body,
      subject,
      policy: { mode: "subject" },
    });
  } catch (error) {
    if (error instanceof RedactionError) return { status: "skipped", reason: `redaction_failed:${error.code}` };
    throw error;
  }
  if (result.status === "unsupported") return { status: "skipped", reason: "unsupported_format" };
  const counts = result.summary.counts;
  const found = counts.email + counts.phone + counts.iban + counts.name;
  if (changed) return found === 0 ? { status: "replaced", format: result.format, counts } : modified;
  if (found === 0) return { status: "unchanged", format: result.format, counts };
  const answer = await store.replace(ref, result.bytes, result.contentType);
  if (answer.outcome === "replaced") return { status: "replaced", format: result.format, counts };
  if (answer.outcome === "refused") return { status: "refused", reason: `refused:${answer.code}` };
  return modified;
}

const modified: Erased = { status: "modified", reason: "modified_since_read" };

/**
 * Erasure (identity validated). Report mode (default): the documents mentioning the subject are listed in a manifest
 * attached to the DSR and a Dastra Task asks for their review. Redact-in-place mode: each supported document is
 * replaced by a version masking the subject's data (If-Match guarded); changed-meanwhile and refused documents are
 * reported, never overwritten.
 */
export function erasureJob(job: CmsJob): Promise<FinalConnectorOutcome> {
  return withRecordedOutcome(() => runErasure(job));
}

async function runErasure(job: CmsJob): Promise<FinalConnectorOutcome> {
  const { dsrId } = job.input as unknown as DsrJobInput;
  const store = documentStoreFor(job.config, job.log, job.env.PROVIDER_LIMITER);
  const found = await discoverStep(job, store, dsrId);
  const inPlace = job.config.erasureMode === "redact-in-place";
  const documents: ManifestEntry[] = [];
  const skipped: ManifestEntry[] = found.skipped.map((s) => ({ source: sourceOf(s.ref), reason: s.reason }));

  if (!inPlace) for (const ref of found.documents) documents.push({ source: sourceOf(ref) });
  else {
    const subject = await typedStep<RedactionSubject>(job, "subject", async () =>
      redactionSubjectOf(await job.dastra.dataSubjectRequests.get(dsrId)),
    );
    for (const ref of found.documents) {
      const erased = await typedStep<Erased>(job, `erase:${ref.itemId}`, (run) =>
        eraseInPlace(store, ref, subject, run.recovering || job.attempt > 1),
      );
      if (erased.status === "replaced" || erased.status === "unchanged")
        documents.push({
          source: sourceOf(ref),
          erasure: erased.status,
          format: erased.format,
          redactions: erased.counts,
        });
      else if (erased.status === "skipped") skipped.push({ source: sourceOf(ref), reason: erased.reason });
      else
        skipped.push({
          source: sourceOf(ref),
          reason: erased.reason,
          erasure: erased.status,
        });
    }
  }

  const manifest = buildManifest(dsrId, inPlace ? "erasure-redact-in-place" : "erasure-report", documents, skipped);
  await typedStep(job, "attach:manifest", async () => {
    const bytes = new TextEncoder().encode(JSON.stringify(manifest, null, 2));
    const name = `documents erasure manifest - DSR ${dsrId}.json`;
    const attachment = await attachOnce(job.dastra, dsrId, { name, type: "application/json", bytes });
    return { attachmentId: attachment.id };
  });

  const replaced = documents.filter((d) => d.erasure === "replaced").length;
  const needsReview = !inPlace ? found.documents.length + skipped.length : skipped.length;
  if (needsReview > 0)
    await typedStep(job, "review-task", async () => {
      const task = await createTaskOnce(job.dastra, {
        ref: `cms:dsr:${dsrId}:erasure-review`,
        label: inPlace
          ? `Review documents not erased in place for DSR ${dsrId}`
          : `Review documents mentioning the data subject of DSR ${dsrId}`,
        objectType: "DataSubject",
        objectId: String(dsrId),
        descriptionHtml: `<p>The documents connector listed ${needsReview} document(s) in the manifest attached to the DSR.</p>`,
      });
      return { taskId: task.id };
    });

  const outcome = await typedStep<FinalConnectorOutcome>(job, "outcome", async () => ({
    status: "done",
    summary: inPlace
      ? `Documents: ${replaced} replaced with the data subject's data masked; ${skipped.length} reported for review`
      : `Documents: ${found.documents.length} mentioning the data subject reported for review (manifest attached, task created)`,
    details: {
      mode: inPlace ? "redact-in-place" : "report",
      found: found.documents.length,
      replaced,
      reported: needsReview,
    },
    ...(needsReview > 0 ? { needsReview: true } : {}),
  }));
  await removeDiscovery(job);
  return outcome;
}

// Redacted copies archived in R2 hold the data subject's own data (special categories included): they are kept
// ARCHIVE_RETENTION_DAYS after upload, then deleted by the daily cron in bounded batches (the svix pattern: retention
// with an expiry and a batched cleaner). An R2 lifecycle rule on the bucket does the same and may be added too.

/** Objects listed per R2 `list` call (R2's maximum, developers.cloudflare.com/r2/api/workers/workers-api-reference). */
const LIST_LIMIT = 1000;

/**
 * Deletes the archived copies uploaded more than `retentionDays` days before `nowMs` (epoch ms), at most
 * `maxDeletes` per call (the next cron run goes on). Returns how many were deleted and whether older ones remain.
 * Throws what the R2 binding throws.
 */
export async function pruneArchivedCopies(
  bucket: R2Bucket,
  retentionDays: number,
  nowMs = Date.now(),
  maxDeletes = 5000,
): Promise<{ deleted: number; more: boolean }> {
  const cutoff = nowMs - retentionDays * 86_400_000;
  let deleted = 0;
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ limit: LIST_LIMIT, ...(cursor ? { cursor } : {}) });
    const expired = page.objects.filter((o) => o.uploaded.getTime() < cutoff).map((o) => o.key);
    const batch = expired.slice(0, maxDeletes - deleted);
    if (batch.length) await bucket.delete(batch);
    deleted += batch.length;
    if (batch.length < expired.length) return { deleted, more: true };
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return { deleted, more: false };
}

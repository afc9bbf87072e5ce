// Backoff in the spirit of Svix / Standard Webhooks: about 3 days in 9 retries after the first attempt.
const RETRY_STEPS_MS = [5e3, 3e5, 18e5, 72e5, 18e6, 36e6, 504e5, 72e6, 864e5];

/** Attempts in total: the first one plus one per retry step. */
export const MAX_ATTEMPTS = RETRY_STEPS_MS.length + 1;

/**
 * Delay before the next attempt after `attempts` failed ones, or null when the delivery is exhausted.
 * Full jitter within each step (between the previous step and this one) spreads retries of a burst
 * without ever retrying sooner than the previous step did.
 */
export function nextRetryDelayMs(attempts: number, scale: number, random: () => number = Math.random): number | null {
  const step = RETRY_STEPS_MS[attempts - 1];
  if (step === undefined) return null;
  const floor = RETRY_STEPS_MS[attempts - 2] ?? 0;
  return Math.round((floor + random() * (step - floor)) * scale);
}

export function retryScale(raw: string | undefined): number {
  const scale = Number(raw ?? "1");
  return Number.isFinite(scale) && scale >= 0 ? scale : 1;
}

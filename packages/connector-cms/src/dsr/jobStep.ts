import type { JobContext, JsonValue, StepRun } from "@dastra/core/kit/connectorJob";

/**
 * `job.step` for a typed result: `T` must be JSON (plain objects, arrays, strings, numbers, booleans, null; no
 * undefined values), which the ledger stores and returns unchanged on a re-run.
 */
export function typedStep<T>(
  job: Pick<JobContext<unknown, unknown>, "step">,
  name: string,
  fn: (run: StepRun) => Promise<T>,
): Promise<T> {
  return job.step(name, fn as unknown as (run: StepRun) => Promise<JsonValue>) as unknown as Promise<T>;
}

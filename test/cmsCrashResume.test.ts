// connector-cms: the whole stack (router, sandbox, connector) is killed in the middle of an Access DSR with several
// documents, then started again on the same persisted state; the DSR's job resumes where it stopped.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { attachmentsOf, createJaneDsr, startCmsStack, waitForAttachment } from "./cmsHarness";
import { sandboxControl, waitFor } from "./routerHarness";
import type { LocalStack } from "./stack/localStack";

const persistDir = mkdtempSync(path.join(tmpdir(), "cms-crash-"));
let stack: LocalStack | undefined;
afterAll(async () => {
  await stack?.dispose();
  rmSync(persistDir, { recursive: true, force: true });
});

type JobSnapshot = {
  jobName: string;
  state: string;
  attempts: number;
  steps: { name: string; state: string; attempts: number }[];
};

async function jobsOf(s: LocalStack, dsrId: number): Promise<JobSnapshot[]> {
  const ns = await s.mf.getDurableObjectNamespace("JOBS", "dastra-connector-cms");
  const stub = ns.get(ns.idFromName(`dsr:${dsrId}`)) as unknown as { inspect(): Promise<JobSnapshot[]> };
  return stub.inspect();
}

describe("connector-cms: crash in the middle of a DSR", () => {
  it("resumes after a crash of every worker: done steps are not run again, nothing is attached twice", async () => {
    stack = await startCmsStack({}, { persistDir });
    // Slow Graph down so the crash lands between documents.
    await sandboxControl(stack, "/faults/graph", "PUT", { latencyMs: 300 });
    const dsr = await createJaneDsr(stack, ["Access"], "Access request - Jane Doe (cms crash)");
    const before = await waitFor(
      "two redacted copies attached",
      async () => {
        const copies = (await attachmentsOf(stack as LocalStack, dsr.id)).filter((a) =>
          a.fileName.startsWith("redacted - "),
        );
        return copies.length >= 2 && copies;
      },
      60_000,
    );
    // Kill everything mid-job: workerd goes away with the job's isolate, in-flight requests and all.
    await stack.dispose();
    stack = undefined;

    stack = await startCmsStack({}, { persistDir, seed: undefined });
    // The ledger as the crash left it: discovery and the first documents recorded, one step left "started".
    const [atCrash] = await jobsOf(stack, dsr.id);
    await sandboxControl(stack, "/faults/graph", "DELETE");
    expect(atCrash?.steps.find((s) => s.name === "discover")).toMatchObject({ state: "done", attempts: 1 });
    const attachedAtCrash = atCrash?.steps.filter((s) => s.name.startsWith("attach:") && s.state === "done") ?? [];
    expect(attachedAtCrash.length).toBeGreaterThanOrEqual(2);
    await waitForAttachment(stack, dsr.id, "documents manifest", 90_000);
    const after = await attachmentsOf(stack, dsr.id);
    const copies = after.filter((a) => a.fileName.startsWith("redacted - "));
    expect(copies).toHaveLength(8);
    expect(new Set(after.map((a) => a.fileName)).size).toBe(after.length);
    // What was attached before the crash is still the same attachment, not a second upload.
    for (const early of before) expect(after.find((a) => a.fileName === early.fileName)?.id).toBe(early.id);

    // The job ended done, in a second run (the first died with the workers); the ledger is released once done.
    const [job] = await jobsOf(stack, dsr.id);
    expect(job).toMatchObject({ jobName: "access", state: "done" });
    expect(job?.attempts).toBeGreaterThanOrEqual(2);
  }, 240_000);
});

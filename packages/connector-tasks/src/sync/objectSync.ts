// One Durable Object per Dastra object (`dsr:<id>`, `task:<id>`): it holds the object's record and runs every
// sync of that object one at a time (a Dastra event, a Jira webhook, the deadline guard), so two quick edits of
// one task land in order and a read-compare-write is never interleaved with another.
import { DurableObject } from "cloudflare:workers";
import type { ConnectorOutcome } from "@dastra/core/connectorContract";
import { dastraClientForConnector } from "@dastra/core/kit/connectorDastraClient";
import { outcomeForError } from "@dastra/core/kit/errorOutcome";
import { createLogger } from "@dastra/core/logger";
import { guardDsrIssue } from "../deadline/deadlineGuard";
import type { TrackedIssue } from "../issue/taskTracker";
import { jiraTrackerFor } from "../jira/jiraForEnv";
import { tasksConfig } from "../tasksConfig";
import type { TasksEnv } from "../tasksEnv";
import { syncDsr } from "./dsrIssueSync";
import type { ObjectRecord, SyncDeps, SyncResult } from "./syncDeps";
import { syncTask } from "./taskIssueSync";

/** As in the router's ROUTES (apps/router/wrangler.jsonc), which the router checks describe() against. */
export const CONNECTOR_LABEL = "Tasks";

/** An RPC answer: the flow's result, or the contract outcome its error maps to (errors do not cross RPC typed). */
export type SyncAnswer =
  | ({ ok: true } & SyncResult & { overdue?: boolean })
  | { ok: false; outcome: Exclude<ConnectorOutcome, { status: "done" | "accepted" }> };

/** The ObjectSync key of a Dastra object. */
export function objectKey(kind: "dsr" | "task", id: number): string {
  return `${kind}:${id}`;
}

export class ObjectSync extends DurableObject<TasksEnv> {
  private chain: Promise<unknown> = Promise.resolve();

  /** Runs `fn` after every earlier call on this object has finished. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async withDeps(name: string, flow: (deps: SyncDeps) => Promise<SyncAnswer>): Promise<SyncAnswer> {
    return this.serial(async () => {
      const log = createLogger({ worker: "connector-tasks", object: name });
      try {
        const config = tasksConfig(this.env);
        const record = (await this.ctx.storage.get<ObjectRecord>("record")) ?? {};
        const deps: SyncDeps = {
          tracker: jiraTrackerFor(config, log, this.env.PROVIDER_LIMITER),
          dastra: dastraClientForConnector(this.env, { logger: log }),
          config,
          log,
          record,
          save: () => this.ctx.storage.put("record", record),
        };
        return await flow(deps);
      } catch (error) {
        const outcome = outcomeForError(error, CONNECTOR_LABEL);
        if (outcome.status === "done" || outcome.status === "accepted")
          return { ok: false, outcome: { status: "retry", reason: "unexpected outcome" } };
        log.warn("sync failed", { outcome: outcome.status, reason: "reason" in outcome ? outcome.reason : "" });
        return { ok: false, outcome };
      }
    });
  }

  syncDsr(dsrId: number): Promise<SyncAnswer> {
    return this.withDeps(objectKey("dsr", dsrId), async (deps) => ({ ok: true, ...(await syncDsr(deps, dsrId)) }));
  }

  syncTask(taskId: number): Promise<SyncAnswer> {
    return this.withDeps(objectKey("task", taskId), async (deps) => ({ ok: true, ...(await syncTask(deps, taskId)) }));
  }

  /** The deadline guard's check of this DSR's issue (found by the sweep). */
  guard(dsrId: number, issue: TrackedIssue, today: string): Promise<SyncAnswer> {
    return this.withDeps(objectKey("dsr", dsrId), async (deps) => ({
      ok: true,
      ...(await guardDsrIssue(deps, issue, today)),
    }));
  }

  /** What is stored for this object (ids and digests only). */
  async record(): Promise<ObjectRecord> {
    return (await this.ctx.storage.get<ObjectRecord>("record")) ?? {};
  }

  /** Erases everything stored for this object (operator erasure; the issue keeps its link property). */
  forget(): Promise<void> {
    return this.serial(() => this.ctx.storage.deleteAll());
  }
}

// The tasks connector on the kit: DSR events keep the DSR's Jira issue in step, Task events mirror Dastra Tasks.
// Every event runs in the object's ObjectSync Durable Object (serialised per object) and ends `done` or with the
// kit's mapping of its error (retry with Retry-After, or failed with a reason).
import type { ConnectorOutcome } from "@dastra/core/connectorContract";
import { type ConnectorHandler, defineConnector } from "@dastra/core/kit/defineConnector";
import { CONNECTOR_LABEL, objectKey, type SyncAnswer } from "./sync/objectSync";
import { type TasksConfig, tasksConfig } from "./tasksConfig";
import type { TasksEnv } from "./tasksEnv";

function outcomeOf(answer: SyncAnswer): ConnectorOutcome {
  if (!answer.ok) return answer.outcome;
  return { status: "done", summary: answer.summary, ...(answer.details ? { details: answer.details } : {}) };
}

const onDsr: ConnectorHandler<TasksEnv, TasksConfig> = async ({ dsr, env }) => {
  if (!dsr) return { status: "failed", reason: "the event carries no DSR", summary: `${CONNECTOR_LABEL}: no DSR` };
  const stub = env.OBJECT_SYNC.get(env.OBJECT_SYNC.idFromName(objectKey("dsr", dsr.id)));
  return outcomeOf(await stub.syncDsr(dsr.id));
};

const onTask: ConnectorHandler<TasksEnv, TasksConfig> = async ({ task, env }) => {
  if (!task) return { status: "failed", reason: "the event carries no Task", summary: `${CONNECTOR_LABEL}: no Task` };
  const stub = env.OBJECT_SYNC.get(env.OBJECT_SYNC.idFromName(objectKey("task", task.id)));
  return outcomeOf(await stub.syncTask(task.id));
};

export const tasks = defineConnector<TasksEnv, TasksConfig>({
  name: "tasks",
  label: CONNECTOR_LABEL,
  config: tasksConfig,
  handlers: {
    DataSubjectCreation: onDsr,
    DataSubjectUpdate: onDsr,
    DataSubjectStateChange: onDsr,
    DataSubjectArchived: onDsr,
    TaskCreation: onTask,
    TaskEdit: onTask,
    TaskChangeState: onTask,
    TaskAssigned: onTask,
    TaskArchived: onTask,
  },
});

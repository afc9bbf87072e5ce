// The connector's status (one instance, "status"): the deadline guard's last report, i.e. the DSR issues past
// their due date. Issue keys and DSR ids only, no personal data.
import { DurableObject } from "cloudflare:workers";
import type { TasksEnv } from "../tasksEnv";

/** The deadline guard's last sweep: DSR issues past their due date, and how many were warned. */
export interface GuardReport {
  at: string;
  checked: number;
  warned: number;
  overdue: { issueKey: string; dsrId: number; dueDate: string }[];
}

export class ConnectorStatus extends DurableObject<TasksEnv> {
  recordGuardReport(report: GuardReport): Promise<void> {
    return this.ctx.storage.put("guard", report);
  }

  async guardReport(): Promise<GuardReport | null> {
    return (await this.ctx.storage.get<GuardReport>("guard")) ?? null;
  }
}

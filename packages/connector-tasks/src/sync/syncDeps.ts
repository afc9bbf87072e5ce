// What a sync flow works with: the tracker, Dastra, the config, a logger and the object's stored record.
import type { DastraClient } from "@dastra/core/dastraClient";
import type { Logger } from "@dastra/core/logger";
import type { StatusCategory, TaskTracker } from "../issue/taskTracker";
import type { TasksConfig } from "../tasksConfig";

/**
 * What the connector keeps per DSR or Task (in its ObjectSync Durable Object), never personal data: the issue it
 * maps to, SHA-256 digests of the field values it last wrote, and the status category both sides last agreed on.
 */
export interface ObjectRecord {
  issueId?: string;
  issueKey?: string;
  /** Field name -> hex SHA-256 of the JSON value last written to (or found on) the issue. */
  fields?: Record<string, string>;
  /** The status category both sides last agreed on (three-way merge base). */
  category?: StatusCategory;
  /** The issue was deleted in the tracker: the object is no longer mirrored. */
  issueDeleted?: boolean;
  /** DSR: the issue was moved to done because the DSR was closed/archived in Dastra (done once). */
  closedFromDastra?: boolean;
  /** DSR: when the issue reached done in the tracker (the result recorded for the DSR). */
  doneInTrackerAt?: string;
  /** Deadline-guard thresholds (days) already announced. */
  announced?: number[];
}

export interface SyncDeps {
  tracker: TaskTracker;
  dastra: DastraClient;
  config: TasksConfig;
  log: Logger;
  record: ObjectRecord;
  /** Persists `record` (called after each side effect, so a crash never forgets one that happened). */
  save(): Promise<void>;
}

/** A flow's answer: one line an operator can read (no personal data) and flat details. */
export interface SyncResult {
  summary: string;
  details?: Record<string, string | number | boolean | null>;
}

export async function digest(value: unknown): Promise<string> {
  const bytes = new TextEncoder().encode(JSON.stringify(value ?? null));
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("");
}

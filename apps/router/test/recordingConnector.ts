import { env } from "cloudflare:test";

/** The fixture connector's RPC surface (test/fixtures/recordingConnector), reached through the router's own bindings. */
export interface RecordingConnector {
  recorded(): Promise<{
    deliveries: { eventId: string; attempt: number; source: string; eventType: string }[];
    calls: number;
  }>;
  control(c: {
    mode?: "ok" | "retry" | "fail" | "accept";
    outageForMs?: number;
    outageUntil?: number;
    /** A number, or "NaN" / "Infinity" / any text (the fixture sends it as is: a malformed answer). */
    retryAfterSeconds?: number | string;
    delayMs?: number;
    completeAfterMs?: number | null;
    describe?: { events?: string[]; label?: string };
  }): Promise<unknown>;
  jobs(): Promise<{ jobId: string; eventId: string; completeAt: number | null; answer: unknown }[]>;
}

export const connectors = {
  crm: env.CONNECTOR_CRM as unknown as RecordingConnector,
  cms: env.CONNECTOR_CMS as unknown as RecordingConnector,
  tasks: env.CONNECTOR_TASKS as unknown as RecordingConnector,
};

export async function deliveriesOf(connector: RecordingConnector, eventId: string) {
  return (await connector.recorded()).deliveries.filter((d) => d.eventId === eventId);
}

export async function healAll(): Promise<void> {
  for (const c of Object.values(connectors))
    await c.control({ mode: "ok", outageUntil: 0, delayMs: 0, completeAfterMs: null, describe: {} });
}

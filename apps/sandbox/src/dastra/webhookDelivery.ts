import { DASTRA_SIGNATURE_HEADER, signDastraPayload } from "@dastra/core";

/** Dastra waits this long for an answer; anything but 200 in time is an error. */
export const DELIVERY_TIMEOUT_MS = 10_000;

export interface DeliveryResult {
  ok: boolean;
  status: number | null;
  error: string | null;
  signature: string;
}

/** POSTs one signed webhook body the way Dastra does. */
export async function deliverWebhook(url: string, body: string, signatureKey: string): Promise<DeliveryResult> {
  const signature = await signDastraPayload(body, signatureKey);
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json; charset=utf-8", [DASTRA_SIGNATURE_HEADER]: signature },
      body,
      signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
    });
    // Drain the body so the connection is released; its content is irrelevant.
    await res.arrayBuffer().catch(() => undefined);
    return {
      ok: res.status === 200,
      status: res.status,
      error: res.status === 200 ? null : `HTTP ${res.status}`,
      signature,
    };
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
    return {
      ok: false,
      status: null,
      error: timedOut ? `no answer within ${DELIVERY_TIMEOUT_MS / 1000} s` : `unreachable: ${String(err)}`,
      signature,
    };
  }
}

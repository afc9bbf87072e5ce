// The Dastra user the router's API key acts as. Dastra models each API key as a user and stamps every webhook with the
// `userId` of whoever made the change, so a webhook carrying the router's own user id is the echo of its own write
// (today: the outcome report), and connectors are not sent it unless their route asks (`echoes: true`).

import type { DastraClient } from "@dastra/core/dastraClient";

/** Meta key under which the event log keeps the router's Dastra user id (a number as text). */
export const OWN_USER_META = "dastra.ownUserId";

/** The router's Dastra user id as stored; null until learnt. */
export function ownUserId(sql: SqlStorage): number | null {
  const value = sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", OWN_USER_META).toArray()[0]?.value;
  const id = Number(value);
  return value !== undefined && Number.isInteger(id) ? id : null;
}

/**
 * Asks Dastra `GET /me` (one request) and returns the id; the caller stores it under OWN_USER_META.
 * Throws what the client throws (rate budget spent, Dastra down): the caller tries again later.
 */
export async function fetchOwnUserId(client: DastraClient): Promise<number> {
  return (await client.me()).id;
}

// GET /status: a server-rendered page for operators (no client script): recent events, deliveries per connector,
// retry queue and dead letters with replay buttons (plain form POSTs). Auth: a login form starts a signed, expiring
// session in an HttpOnly, SameSite=Strict cookie (never the token itself). Forms are also refused cross-site by
// Origin / Sec-Fetch-Site, a second layer to SameSite. Notices are fixed codes, never text from the URL.

import { readCappedBody } from "@dastra/core/readCappedBody";
import type { Context, MiddlewareHandler } from "hono";
import { Hono } from "hono";
import { deleteCookie } from "hono/cookie";
import type { FC } from "hono/jsx";
import { routesConfigError, routesFrom } from "../delivery/routingTable";
import { type Env, eventLogStub } from "../env";
import { DELIVERY_STATES, type DeliveryState } from "../eventLog/eventLogSchema";
import type { EventView } from "../eventLog/eventLogViews";
import { jsonError } from "../jsonError";
import { checkOperatorToken, hasStatusSession, STATUS_SESSION_COOKIE, startStatusSession } from "./adminAuth";

const CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'";

const style = `
body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#1d2433}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.6rem}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #dde;padding:.3rem .5rem;text-align:left;vertical-align:top}
.s{display:inline-block;padding:0 .4rem;border-radius:.3rem;font-size:12px;margin-right:.2rem}
.done{background:#d7f5dd}.pending,.retrying{background:#fff1c2}.accepted{background:#dbe8ff}.failed,.dead{background:#ffd6d6}
code{font-size:12px}form{display:inline}button{cursor:pointer}.muted{color:#667}`;

const Layout: FC = ({ children }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <title>Dastra router status</title>
      <style>{style}</style>
    </head>
    <body>{children}</body>
  </html>
);

const LoginForm: FC<{ failed?: boolean }> = ({ failed }) => (
  <Layout>
    <h1>Dastra router status</h1>
    {failed ? <p role="alert">That token is not valid.</p> : null}
    <form method="post" action="/status/login">
      <label>
        Operator token <input type="password" name="token" autocomplete="current-password" required />
      </label>{" "}
      <button type="submit">Sign in</button>
    </form>
  </Layout>
);

const ReplayButton: FC<{ eventId: string; connector: string }> = ({ eventId, connector }) => (
  <form method="post" action={`/status/events/${encodeURIComponent(eventId)}/replay`}>
    <input type="hidden" name="connector" value={connector} />
    <button type="submit" data-replay={`${eventId}:${connector}`}>
      Replay
    </button>
  </form>
);

function deliveryRows(events: EventView[], states: DeliveryState[]) {
  return events.flatMap((e) =>
    e.deliveries.filter((d) => states.includes(d.state)).map((d) => ({ event: e, delivery: d })),
  );
}

const Dashboard: FC<{
  labels: Map<string, string>;
  counts: { connector: string; state: DeliveryState; count: number }[];
  recent: EventView[];
  retrying: EventView[];
  dead: EventView[];
  accepted: EventView[];
  quarantined: number;
  configError: string | null;
  notice?: string | undefined;
}> = ({ labels, counts, recent, retrying, accepted, dead, quarantined, configError, notice }) => (
  <Layout>
    <h1>Dastra router status</h1>
    <p class="muted">
      Rendered {new Date().toISOString()} · quarantined webhooks: {quarantined}{" "}
      <form method="post" action="/status/logout">
        <button type="submit">Sign out</button>
      </form>
    </p>
    {notice ? <p role="status">{notice}</p> : null}
    {configError ? (
      <p role="alert" id="config-error" class="s failed">
        Configuration error: {configError}. Webhooks are kept in the inbox and processed once it is fixed.
      </p>
    ) : null}

    <h2>Deliveries per connector</h2>
    <table id="connectors">
      <thead>
        <tr>
          <th>Connector</th>
          {DELIVERY_STATES.map((s) => (
            <th>{s}</th>
          ))}
          <th />
        </tr>
      </thead>
      <tbody>
        {[...labels.entries()].map(([name, label]) => (
          <tr data-connector={name}>
            <td>
              {label} <code>{name}</code>
            </td>
            {DELIVERY_STATES.map((s) => (
              <td data-state={s}>{counts.find((n) => n.connector === name && n.state === s)?.count ?? 0}</td>
            ))}
            <td>
              <form method="post" action={`/status/connectors/${encodeURIComponent(name)}/replay-dead-letters`}>
                <button type="submit">Replay dead letters</button>
              </form>
            </td>
          </tr>
        ))}
      </tbody>
    </table>

    <h2>Retry queue</h2>
    <table id="retry-queue">
      <thead>
        <tr>
          <th>Event</th>
          <th>Connector</th>
          <th>Attempts</th>
          <th>Next attempt</th>
          <th>Last error</th>
        </tr>
      </thead>
      <tbody>
        {deliveryRows(retrying, ["retrying"]).map(({ event, delivery }) => (
          <tr>
            <td>
              <code>{event.id}</code> {event.eventType}
            </td>
            <td>{delivery.connector}</td>
            <td>{delivery.attempts}</td>
            <td>{delivery.nextAttemptAt}</td>
            <td>{delivery.lastError}</td>
          </tr>
        ))}
      </tbody>
    </table>

    <h2>Accepted jobs</h2>
    <table id="accepted-jobs">
      <thead>
        <tr>
          <th>Event</th>
          <th>Connector</th>
          <th>Deadline</th>
          <th>Summary</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {deliveryRows(accepted, ["accepted"]).map(({ event, delivery }) => (
          <tr data-event={event.id} data-connector={delivery.connector}>
            <td>
              <code>{event.id}</code> {event.eventType}
            </td>
            <td>{delivery.connector}</td>
            <td>{delivery.nextAttemptAt}</td>
            <td>{delivery.summary}</td>
            <td>
              <ReplayButton eventId={event.id} connector={delivery.connector} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>

    <h2>Dead letters</h2>
    <table id="dead-letters">
      <thead>
        <tr>
          <th>Event</th>
          <th>Connector</th>
          <th>State</th>
          <th>Reason</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {deliveryRows(dead, ["failed", "dead"]).map(({ event, delivery }) => (
          <tr data-event={event.id} data-connector={delivery.connector}>
            <td>
              <code>{event.id}</code> {event.eventType}
            </td>
            <td>{delivery.connector}</td>
            <td>
              <span class={`s ${delivery.state}`}>{delivery.state}</span>
            </td>
            <td>{delivery.lastError}</td>
            <td>
              <ReplayButton eventId={event.id} connector={delivery.connector} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>

    <h2>Recent events</h2>
    <table id="recent-events">
      <thead>
        <tr>
          <th>Received</th>
          <th>Event</th>
          <th>Source</th>
          <th>Deliveries</th>
        </tr>
      </thead>
      <tbody>
        {recent.map((e) => (
          <tr data-event={e.id}>
            <td>{e.receivedAt}</td>
            <td>
              <code>{e.id}</code> {e.eventType}
            </td>
            <td>{e.source}</td>
            <td>
              {e.deliveries.map((d) => (
                <span class={`s ${d.state}`} title={d.summary ?? d.lastError ?? ""}>
                  {d.connector}: {d.state}
                </span>
              ))}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  </Layout>
);

/** What a redirect after a form may say: fixed texts by code, with a count or known connector names at most. */
const NOTICES: Record<string, (n: number, connectors: string) => string> = {
  replay_queued: (_n, connectors) => `Replay queued for ${connectors || "no connector"}`,
  no_event: () => "No such event",
  body_deleted: () => "Not replayed: the event's body was deleted (retention or erasure)",
  dead_letters_queued: (n, connectors) => `${n} dead letters of ${connectors} queued again`,
};

function noticeOf(c: Context<{ Bindings: Env }>): string | undefined {
  const render = NOTICES[c.req.query("notice") ?? ""];
  if (!render) return undefined;
  const known = new Set(routesFrom(c.env).map((r) => r.connector));
  const connectors = (c.req.query("connectors") ?? "")
    .split(",")
    .filter((name) => known.has(name))
    .join(", ");
  const n = Number(c.req.query("n") ?? "0");
  return render(Number.isSafeInteger(n) && n >= 0 ? n : 0, connectors);
}

const noticeUrl = (code: keyof typeof NOTICES, connectors: string[] = [], n = 0) =>
  `/status?${new URLSearchParams({ notice: code, ...(connectors.length ? { connectors: connectors.join(",") } : {}), ...(n ? { n: String(n) } : {}) })}`;

/** A form post from another site is refused, whatever cookies it carries (Fetch Metadata, then Origin). */
const sameOriginForms: MiddlewareHandler<{ Bindings: Env }> = async (c, next) => {
  if (c.req.method !== "POST") return next();
  const site = c.req.header("sec-fetch-site");
  const origin = c.req.header("origin");
  const crossSite =
    (site !== undefined && site !== "same-origin" && site !== "none") ||
    (origin !== undefined && origin !== new URL(c.req.url).origin);
  if (crossSite) return jsonError(c, 403, "cross_site_request", "Status page forms are accepted from this site only");
  return next();
};

/** Largest status page form read, in bytes: a token or a connector name, with room. Larger: 413 JSON. */
export const MAX_FORM_BYTES = 8 * 1024;

/** The form fields, or a JSON answer: 413 past {@link MAX_FORM_BYTES}, 400 for a body that is not a well-formed form. */
async function formOf(c: Context<{ Bindings: Env }>): Promise<Record<string, unknown> | Response> {
  const body = await readCappedBody(c.req.raw, MAX_FORM_BYTES);
  if (body === "too_large")
    return jsonError(c, 413, "payload_too_large", `Status page forms are limited to ${MAX_FORM_BYTES} bytes`);
  try {
    const type = c.req.header("content-type") ?? "";
    return await new Request(c.req.url, { method: "POST", body, headers: { "content-type": type } })
      .formData()
      .then((data) => Object.fromEntries([...data.entries()].map(([k, v]) => [k, v])));
  } catch {
    return jsonError(c, 400, "invalid_form", "The body is not a well-formed form (urlencoded or multipart)");
  }
}

/**
 * A request without a session: the login form for a browser (it asks for text/html), else the JSON error every
 * other client gets (scripts, fuzzers): 401 `unauthorized`.
 */
function signInFirst(c: Context<{ Bindings: Env }>, failed = false): Response | Promise<Response> {
  if ((c.req.header("accept") ?? "").includes("text/html")) return c.html(<LoginForm failed={failed} />, 401);
  return jsonError(c, 401, "unauthorized", "Sign in with the operator token first (POST /status/login)");
}

/** A connector named in ROUTES, or the 404 JSON answer: an unknown name is never passed on (nor echoed). */
function knownConnector(c: Context<{ Bindings: Env }>, name: string): string | Response {
  const configError = routesConfigError(c.env);
  if (configError !== null) return jsonError(c, 503, "config_error", configError);
  return routesFrom(c.env).some((r) => r.connector === name)
    ? name
    : jsonError(c, 404, "unknown_connector", "No connector of that name in ROUTES");
}

export const statusPage = new Hono<{ Bindings: Env }>()
  .use("*", async (c, next) => {
    await next();
    c.header("Content-Security-Policy", CSP);
    c.header("Cache-Control", "no-store");
  })
  .use("*", sameOriginForms)
  .get("/", async (c) => {
    if (!(await hasStatusSession(c))) return signInFirst(c);
    const log = eventLogStub(c.env);
    const [counts, recent, retrying, accepted, failed, dead, quarantine] = await Promise.all([
      log.deliveryCounts(),
      log.listEvents({ limit: 25 }),
      log.listEvents({ state: "retrying", limit: 50 }),
      log.listEvents({ state: "accepted", limit: 50 }),
      log.listEvents({ state: "failed", limit: 50 }),
      log.listEvents({ state: "dead", limit: 50 }),
      log.quarantineCount(),
    ]);
    const configError = routesConfigError(c.env);
    const routes = configError === null ? routesFrom(c.env) : [];
    const labels = new Map(routes.map((r) => [r.connector, r.label]));
    const byId = new Map([...failed, ...dead].map((e) => [e.id, e]));
    return c.html(
      <Dashboard
        labels={labels}
        counts={counts}
        recent={recent}
        retrying={retrying}
        accepted={accepted}
        dead={[...byId.values()]}
        quarantined={quarantine}
        configError={configError}
        notice={noticeOf(c)}
      />,
    );
  })
  .post("/login", async (c) => {
    const form = await formOf(c);
    if (form instanceof Response) return form;
    const token = typeof form.token === "string" ? form.token : undefined;
    const checked = await checkOperatorToken(c, token);
    if (checked instanceof Response) return checked;
    if (!checked) return signInFirst(c, true);
    await startStatusSession(c);
    return c.redirect("/status", 303);
  })
  .post("/logout", (c) => {
    deleteCookie(c, STATUS_SESSION_COOKIE, { path: "/status" });
    return c.redirect("/status", 303);
  })
  .post("/events/:id/replay", async (c) => {
    if (!(await hasStatusSession(c))) return signInFirst(c);
    const form = await formOf(c);
    if (form instanceof Response) return form;
    let connector: string | undefined;
    if (typeof form.connector === "string" && form.connector) {
      const known = knownConnector(c, form.connector);
      if (known instanceof Response) return known;
      connector = known;
    }
    const result = await eventLogStub(c.env).replay(c.req.param("id"), connector);
    if (result === "body_deleted") return c.redirect(noticeUrl("body_deleted"), 303);
    return c.redirect(result ? noticeUrl("replay_queued", result.replayed) : noticeUrl("no_event"), 303);
  })
  .post("/connectors/:connector/replay-dead-letters", async (c) => {
    if (!(await hasStatusSession(c))) return signInFirst(c);
    const connector = knownConnector(c, c.req.param("connector"));
    if (connector instanceof Response) return connector;
    const count = await eventLogStub(c.env).replayDeadLetters(connector);
    return c.redirect(noticeUrl("dead_letters_queued", [connector], count), 303);
  });

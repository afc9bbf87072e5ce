import { Hono } from "hono";
import { cms } from "./cms.connector";

/** HTTP face of the worker (not public: workers_dev is off): what it declares to the router. */
export const cmsApp = new Hono().get("/", (c) => c.json(cms.describe()));

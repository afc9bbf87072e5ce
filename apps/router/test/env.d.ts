// `env` from cloudflare:test is the router's generated Cloudflare.Env (worker-configuration.d.ts, `wrangler types`).
export {};

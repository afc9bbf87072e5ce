import { maskPersonalData, maskText } from "./maskPersonalData";

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * One JSON line per call through console (Workers Logs index JSON lines), every field masked first.
 * `fields` are bound to every line (e.g. { worker: "router" }); lines below `minLevel` are dropped.
 */
export function createLogger(fields: LogFields = {}, options: { minLevel?: LogLevel } = {}): Logger {
  const minRank = RANK[options.minLevel ?? "debug"];
  const write = (level: LogLevel, msg: string, extra?: LogFields) => {
    if (RANK[level] < minRank) return;
    const line = JSON.stringify({
      ...maskPersonalData({ ...fields, ...extra }),
      level,
      msg: maskText(msg),
      time: new Date().toISOString(),
    });
    if (level === "error") console.error(line);
    else if (level === "warn") console.warn(line);
    else console.log(line);
  };
  return {
    debug: (msg, extra) => write("debug", msg, extra),
    info: (msg, extra) => write("info", msg, extra),
    warn: (msg, extra) => write("warn", msg, extra),
    error: (msg, extra) => write("error", msg, extra),
  };
}

/** Drops everything: the default where no logger is given. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

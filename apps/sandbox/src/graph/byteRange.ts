/** An inclusive byte range of a file, as a `Range: bytes=...` header asks for it. */
export type ByteRange = { start: number; end: number };

/**
 * Reads a single-range `Range` header against a file of `size` bytes (RFC 9110 §14).
 * `null`: no header, or one to ignore (malformed, other unit, several ranges), so the whole file is served;
 * `"unsatisfiable"`: a valid range that starts past the end (416).
 */
export function parseByteRange(header: string | undefined, size: number): ByteRange | "unsatisfiable" | null {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header?.trim() ?? "");
  if (!match || (match[1] === "" && match[2] === "")) return null;
  if (match[1] === "") {
    // bytes=-n: the last n bytes.
    const suffix = Number(match[2]);
    return suffix === 0 || size === 0 ? "unsatisfiable" : { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === "" ? Number.POSITIVE_INFINITY : Number(match[2]);
  if (end < start) return null;
  return start >= size ? "unsatisfiable" : { start, end: Math.min(end, size - 1) };
}

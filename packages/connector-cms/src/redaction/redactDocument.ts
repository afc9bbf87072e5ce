// The redaction engine's entry point: one document in, its redacted copy out (as a stream), or "unsupported".
// Pure: no I/O but the body stream, no bindings; the connector decides what to do with the result.

import { CsvRedactor } from "./csvRedaction";
import { redactDocx } from "./docxRedaction";
import { redactHtml } from "./htmlRedaction";
import { RedactionError } from "./redactionError";
import {
  type RedactionCounts,
  type RedactionMode,
  RedactionRules,
  type RedactionSubject,
  StreamingTextRedactor,
} from "./textRedaction";

/** Formats the engine redacts. */
export type RedactionFormat = "txt" | "md" | "csv" | "html" | "docx";

/** What to mask. */
export interface RedactionPolicy {
  /** `others`: mask everyone's personal data but the subject's (access, portability); `subject`: mask only the subject's (erasure, redact-in-place). */
  mode: RedactionMode;
  /** Other people's names to mask in `others` mode (e.g. the controller's staff, other customers). */
  names?: readonly string[];
  /**
   * CSV only: drop each data row (never the first, header row) that is about the people being redacted instead of
   * masking it: in `others` mode a row holding someone else's data and none of the subject's, in `subject` mode a
   * row holding the subject's data. Default false.
   */
  dropCsvRows?: boolean;
}

/** One document to redact. */
export interface RedactionRequest {
  /** File name; its extension chooses the format (the content type is the fallback). */
  name: string;
  contentType?: string;
  body: ReadableStream<Uint8Array> | Uint8Array | ArrayBuffer;
  subject: RedactionSubject;
  policy: RedactionPolicy;
}

/** Known once the redacted body has been read to its end. */
export interface RedactionSummary {
  /** Items masked (or dropped with a CSV row) per kind. */
  counts: RedactionCounts;
  /** CSV rows dropped by `dropCsvRows`. */
  csvRowsDropped: number;
  /** docx parts that could not be redacted and were kept as they are (images, embedded objects): for review. */
  unredactedParts: string[];
}

export type RedactionResult =
  | {
      status: "redacted";
      format: RedactionFormat;
      /** Content type of the redacted body (text formats are re-encoded as UTF-8). */
      contentType: string;
      /** The redacted document, produced as it is read (errors with a RedactionError on malformed input). */
      body: ReadableStream<Uint8Array>;
      /** Resolves after `body` has been read to its end; rejects with the body's error. */
      summary: Promise<RedactionSummary>;
    }
  | { status: "unsupported"; reason: string };

const DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
const BY_EXTENSION: Record<string, RedactionFormat> = {
  txt: "txt",
  text: "txt",
  log: "txt",
  md: "md",
  markdown: "md",
  csv: "csv",
  html: "html",
  htm: "html",
  docx: "docx",
};
const BY_TYPE: Record<string, RedactionFormat> = {
  "text/plain": "txt",
  "text/markdown": "md",
  "text/csv": "csv",
  "text/html": "html",
  [DOCX_TYPE]: "docx",
};
const OUTPUT_TYPE: Record<RedactionFormat, string> = {
  txt: "text/plain; charset=utf-8",
  md: "text/markdown; charset=utf-8",
  csv: "text/csv; charset=utf-8",
  html: "text/html; charset=utf-8",
  docx: DOCX_TYPE,
};

/** The format of a document from its name, else its content type; null when not supported. */
export function redactionFormatOf(name: string, contentType?: string): RedactionFormat | null {
  const extension = /\.([A-Za-z0-9]+)$/.exec(name)?.[1]?.toLowerCase();
  if (extension) return BY_EXTENSION[extension] ?? null;
  const type = contentType?.split(";")[0]?.trim().toLowerCase();
  return (type && BY_TYPE[type]) || null;
}

/** Reads in 64 KiB pieces: the same code path (and memory bound) for buffered and streamed bodies. */
function toStream(body: RedactionRequest["body"]): ReadableStream<Uint8Array> {
  if (body instanceof ReadableStream) return body;
  const bytes = body instanceof Uint8Array ? body : new Uint8Array(body);
  let at = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.subarray(at, at + 65536));
      at += 65536;
    },
  });
}

/** A stream that fires `onEnd` once fully read and `onError` if it errors; passes bytes through. */
function observed(body: ReadableStream<Uint8Array>, onEnd: () => void, onError: (e: unknown) => void) {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done } = await reader.read();
        if (done) {
          onEnd();
          controller.close();
        } else controller.enqueue(value);
      } catch (error) {
        onError(error);
        controller.error(error);
      }
    },
    cancel(reason) {
      onError(new RedactionError("cancelled", "the redacted body was not read to its end"));
      return reader.cancel(reason);
    },
  });
}

function charsetOf(contentType?: string): string {
  const charset = /charset\s*=\s*"?([\w-]+)/i.exec(contentType ?? "")?.[1] ?? "utf-8";
  try {
    new TextDecoder(charset);
    return charset;
  } catch {
    return "utf-8";
  }
}

/** Streams text through `process` (decoded pieces in, redacted text out), re-encoding as UTF-8; keeps a BOM. */
function redactTextStream(
  body: ReadableStream<Uint8Array>,
  charset: string,
  processor: { push(text: string): string; flush(): string },
): ReadableStream<Uint8Array> {
  const decoder = new TextDecoder(charset, { fatal: false, ignoreBOM: true });
  const encoder = new TextEncoder();
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        const out = processor.push(decoder.decode(chunk, { stream: true }));
        if (out) controller.enqueue(encoder.encode(out));
      },
      flush(controller) {
        const out = processor.push(decoder.decode()) + processor.flush();
        if (out) controller.enqueue(encoder.encode(out));
      },
    }),
  );
}

/**
 * Redacts one document for the connector: other people's personal data (`others` mode) or the data subject's
 * (`subject` mode): email addresses, phone numbers, IBANs (mod-97 valid) and listed names, each replaced by a
 * visible mask such as `[redacted email]`. Formats: txt, md, csv (RFC 4180), html, docx; any other is answered
 * `unsupported` (so it is listed for review, never attached unredacted), as is a .docx that is not a zip
 * (an encrypted or legacy Word file).
 *
 * Streams: memory stays bounded whatever the size (text: one chunk plus an 800-character window; CSV: one record,
 * at most 4 Mi characters; HTML: one text node, at most 4 Mi characters; docx: one paragraph piece, at most 8 Mi
 * characters). Past those bounds, or on malformed input, `body` errors with a {@link RedactionError} and `summary`
 * rejects with it: treat the document as unsupported then.
 */
export async function redactDocument(request: RedactionRequest): Promise<RedactionResult> {
  const format = redactionFormatOf(request.name, request.contentType);
  if (!format) {
    return {
      status: "unsupported",
      reason: `format not supported for redaction (${request.contentType ?? request.name})`,
    };
  }
  const rules = new RedactionRules(request.policy.mode, request.subject, request.policy.names ?? []);
  let body = toStream(request.body);
  if (format === "docx") {
    // Peek: a docx is a zip ("PK\3\4"); an encrypted one is an OLE compound file.
    const reader = body.getReader();
    let head = new Uint8Array(0);
    while (head.length < 4) {
      const { value, done } = await reader.read();
      if (done) break;
      const joined = new Uint8Array(head.length + value.length);
      joined.set(head);
      joined.set(value, head.length);
      head = joined;
    }
    if (head.length < 4 || head[0] !== 0x50 || head[1] !== 0x4b || head[2] !== 3 || head[3] !== 4) {
      await reader.cancel().catch(() => {});
      return { status: "unsupported", reason: "not a zip: an encrypted or legacy Word file cannot be redacted" };
    }
    let sentHead = false;
    body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (!sentHead) {
          sentHead = true;
          return controller.enqueue(head);
        }
        const { value, done } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      cancel: (reason) => reader.cancel(reason),
    });
  }

  const unredactedParts: string[] = [];
  let csv: CsvRedactor | null = null;
  let redacted: ReadableStream<Uint8Array>;
  switch (format) {
    case "txt":
    case "md":
      redacted = redactTextStream(body, charsetOf(request.contentType), new StreamingTextRedactor(rules));
      break;
    case "csv":
      csv = new CsvRedactor(rules, request.policy.dropCsvRows ?? false);
      redacted = redactTextStream(body, charsetOf(request.contentType), csv);
      break;
    case "html":
      redacted = redactHtml(body, request.contentType ?? OUTPUT_TYPE.html, rules);
      break;
    case "docx":
      redacted = redactDocx(body, rules, unredactedParts);
      break;
  }
  let settle!: { resolve: (s: RedactionSummary) => void; reject: (e: unknown) => void };
  const summary = new Promise<RedactionSummary>((resolve, reject) => {
    settle = { resolve, reject };
  });
  // Unobserved rejection is the caller's choice (they may only read the body); avoid an unhandled-rejection log.
  summary.catch(() => {});
  const output = observed(
    redacted,
    () => settle.resolve({ counts: { ...rules.counts }, csvRowsDropped: csv?.rowsDropped ?? 0, unredactedParts }),
    (error) => settle.reject(error),
  );
  const contentType = format === "html" && request.contentType ? request.contentType : OUTPUT_TYPE[format];
  return { status: "redacted", format, contentType, body: output, summary };
}

/**
 * {@link redactDocument}, read to the end: for callers that need the bytes (e.g. a multipart upload).
 * Memory: the whole redacted document. Throws the body's RedactionError on malformed input.
 */
export async function redactDocumentToBytes(
  request: RedactionRequest,
): Promise<
  | { status: "redacted"; format: RedactionFormat; contentType: string; bytes: Uint8Array; summary: RedactionSummary }
  | { status: "unsupported"; reason: string }
> {
  const result = await redactDocument(request);
  if (result.status === "unsupported") return result;
  const bytes = new Uint8Array(await new Response(result.body).arrayBuffer());
  return {
    status: "redacted",
    format: result.format,
    contentType: result.contentType,
    bytes,
    summary: await result.summary,
  };
}

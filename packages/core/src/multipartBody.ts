// multipart/form-data written by hand so a ReadableStream goes out as a stream: the platform's
// FormData only takes Blobs, which would mean buffering the whole file in memory first.

export type UploadBody = Blob | ReadableStream<Uint8Array> | ArrayBuffer | Uint8Array | string;

export interface MultipartBody {
  body: Blob | ReadableStream<Uint8Array>;
  contentType: string;
  /** False for a stream: it can be sent once only. */
  replayable: boolean;
}

const encoder = new TextEncoder();

/** Quotes a filename the way browsers do (WHATWG): ", CR and LF percent-encoded, UTF-8 kept as is. */
function quoteFileName(name: string): string {
  return name.replace(/"/g, "%22").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

function randomBoundary(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `----dastra${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** One file part named `field`. */
export function buildMultipartBody(
  field: string,
  file: { fileName: string; contentType?: string; body: UploadBody },
): MultipartBody {
  const boundary = randomBoundary();
  const partType = (file.contentType ?? "application/octet-stream").replace(/[\r\n]/g, "");
  const head = encoder.encode(
    `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${quoteFileName(file.fileName)}"\r\n` +
      `Content-Type: ${partType}\r\n\r\n`,
  );
  const tail = encoder.encode(`\r\n--${boundary}--\r\n`);
  const contentType = `multipart/form-data; boundary=${boundary}`;
  const source = file.body;
  if (!(source instanceof ReadableStream)) {
    // A view typed as ArrayBuffer-backed (Blob parts may not be SharedArrayBuffer views); no copy.
    const middle =
      typeof source === "string"
        ? encoder.encode(source)
        : source instanceof Uint8Array
          ? new Uint8Array(source.buffer as ArrayBuffer, source.byteOffset, source.byteLength)
          : source;
    return { body: new Blob([head, middle, tail]), contentType, replayable: true };
  }
  const reader = source.getReader();
  let stage: "head" | "file" | "done" = "head";
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (stage === "head") {
        stage = "file";
        controller.enqueue(head);
        return;
      }
      if (stage === "done") return;
      const { done, value } = await reader.read();
      if (done) {
        stage = "done";
        controller.enqueue(tail);
        controller.close();
        return;
      }
      controller.enqueue(typeof value === "string" ? encoder.encode(value) : value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  return { body, contentType, replayable: false };
}

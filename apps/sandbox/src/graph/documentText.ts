import { readZipEntry } from "./zipArchive";

// The text Graph's search would index for a file: plain text as is, HTML and Word without their markup.
// Other formats are found by name only.

const TEXT_EXTENSIONS = new Set(["txt", "md", "csv", "json", "xml", "log"]);
const HTML_EXTENSIONS = new Set(["html", "htm"]);
/** Only this much text is kept per file: a DO SQLite row holds at most 2 MB. */
const MAX_INDEXED_CHARS = 512 * 1024;

const MIME_TYPES: Record<string, string> = {
  txt: "text/plain",
  md: "text/markdown",
  csv: "text/csv",
  json: "application/json",
  xml: "application/xml",
  html: "text/html",
  htm: "text/html",
  pdf: "application/pdf",
  png: "image/png",
  jpg: "image/jpeg",
  docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
};

function extension(name: string): string {
  return name.includes(".") ? (name.split(".").pop() ?? "").toLowerCase() : "";
}

export function mimeTypeOf(name: string): string {
  return MIME_TYPES[extension(name)] ?? "application/octet-stream";
}

function stripMarkup(markup: string, paragraphEnd: RegExp): string {
  return markup
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, " ")
    .replace(paragraphEnd, "\n")
    .replace(/<[^>]+>/g, "")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&apos;|&#39;/g, "'")
    .replace(/&nbsp;/g, " ")
    .replace(/&amp;/g, "&");
}

/** `bytes` is only read for a searchable type, so a large video finishing an upload session is never loaded whole. */
export async function extractSearchText(name: string, bytes: Uint8Array | (() => Uint8Array)): Promise<string> {
  const ext = extension(name);
  if (!(TEXT_EXTENSIONS.has(ext) || HTML_EXTENSIONS.has(ext) || ext === "docx")) return "";
  if (typeof bytes === "function") bytes = bytes();
  let text = "";
  if (TEXT_EXTENSIONS.has(ext)) text = new TextDecoder().decode(bytes);
  else if (HTML_EXTENSIONS.has(ext))
    text = stripMarkup(new TextDecoder().decode(bytes), /<\/(p|div|li|h\d|tr)>|<br\s*\/?>/gi);
  else if (ext === "docx") {
    const xml = await readZipEntry(bytes, "word/document.xml");
    if (xml) text = stripMarkup(new TextDecoder().decode(xml), /<\/w:p>/g);
  }
  return text.slice(0, MAX_INDEXED_CHARS);
}

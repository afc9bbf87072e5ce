// The redaction engine's public surface (see the package README, "Redaction engine").
export type { PersonalDataKind } from "./detectors";
export {
  type RedactionFormat,
  type RedactionPolicy,
  type RedactionRequest,
  type RedactionResult,
  type RedactionSummary,
  redactDocument,
  redactDocumentToBytes,
  redactionFormatOf,
} from "./redactDocument";
export { RedactionError } from "./redactionError";
export { MASKS, type RedactionCounts, type RedactionMode, type RedactionSubject } from "./textRedaction";

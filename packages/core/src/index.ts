export * from "./verifyDastraSignature";
export * from "./webhookEvents";
export * from "./connectorContract";

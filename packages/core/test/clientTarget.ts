// Where the client's behaviour tests point: the local double by default, or any Dastra-compatible API
// (e.g. the sandbox's emulator) when DASTRA_API_URL is set, with DASTRA_TOKEN_URL, DASTRA_PUBLIC_KEY,
// DASTRA_PRIVATE_KEY, DASTRA_WORKSPACE_ID (defaults: the sandbox credentials of ARCHITECTURE.md).
import { createDastraClient, type DastraClientOptions } from "../src/index";
import { type DastraDouble, DOUBLE_CREDENTIALS, startDastraDouble } from "./dastraDouble";

export interface ClientTarget {
  name: string;
  options: DastraClientOptions;
  /** Area to create DSRs in. */
  areaId: number;
  double?: DastraDouble;
  close(): Promise<void>;
}

export async function openClientTarget(): Promise<ClientTarget> {
  const apiUrl = process.env.DASTRA_API_URL;
  if (apiUrl) {
    return {
      name: apiUrl,
      areaId: Number(process.env.DASTRA_AREA_ID ?? 1),
      options: {
        apiUrl,
        tokenUrl: process.env.DASTRA_TOKEN_URL ?? `${apiUrl.replace(/\/+$/, "")}/connect/token`,
        publicKey: process.env.DASTRA_PUBLIC_KEY ?? "sandbox-public",
        privateKey: process.env.DASTRA_PRIVATE_KEY ?? "sandbox-private",
        workspaceId: Number(process.env.DASTRA_WORKSPACE_ID ?? 1),
        retry: { baseDelayMs: 20, maxDelayMs: 2000 },
      },
      close: async () => {},
    };
  }
  const double = await startDastraDouble();
  return {
    name: "local double",
    areaId: 1,
    double,
    options: {
      apiUrl: double.apiUrl,
      tokenUrl: double.tokenUrl,
      ...DOUBLE_CREDENTIALS,
      retry: { baseDelayMs: 5, maxDelayMs: 2000 },
    },
    close: () => double.close(),
  };
}

export function clientFor(target: ClientTarget, overrides: Partial<DastraClientOptions> = {}) {
  return createDastraClient({ ...target.options, ...overrides });
}

import { beforeEach, describe, expect, it } from "vitest";
import { call, control, dastraClient, newDsr, resetSandbox, WS } from "./dastraTestClient";

type Json = Record<string, unknown>;

async function upload(
  bearer: string,
  provider: string,
  name: string,
  text: string,
  fields: Record<string, string> = {},
) {
  const form = new FormData();
  form.append("File", new File([text], name, { type: "text/plain" }));
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  return call(`${WS}/CloudStorage/${provider}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${bearer}` },
    body: form,
  });
}

describe("Dastra emulator: CloudStorage", () => {
  beforeEach(resetSandbox);

  it("uploads a file to a provider as a CloudAttachmentDto, links it to a DSR, and lists it by that container", async () => {
    const api = await dastraClient();
    const dsr = (await (await api.post(`${WS}/DataSubjectRequests`, newDsr())).json()) as Json;
    const providers = (await (await api.get(`${WS}/CloudStorage/providers`)).json()) as Json[];
    expect(providers.map((p) => p.name)).toEqual(["Dastra", "OneDrive"]);

    const res = await upload(api.bearer, "Dastra", "letter (redacted).txt", "Dear Jane Doe, [email removed]");
    expect(res.status).toBe(200);
    const file = (await res.json()) as Json;
    expect(file).toMatchObject({
      id: expect.any(String),
      label: "letter (redacted).txt",
      fileName: "letter (redacted).txt",
      extension: ".txt",
      size: 30,
      source: "Dastra",
      type: "File",
      isFolder: false,
      containerId: null,
      deleted: false,
    });

    const container = `DataSubjectRequest/${dsr.id}`;
    const linked = await api.put(`${WS}/CloudStorage/Dastra/${file.id}`, { label: file.label, containerId: container });
    expect(linked.status).toBe(200);
    expect(((await linked.json()) as Json).containerId).toBe(container);
    // Linked at upload time too.
    const second = await upload(api.bearer, "Dastra", "manifest.json", "{}", { containerId: container });
    expect(((await second.json()) as Json).containerId).toBe(container);
    await upload(api.bearer, "Dastra", "unrelated.txt", "x");

    const listed = (await (
      await api.get(`${WS}/CloudStorage/Dastra?containerId=${encodeURIComponent(container)}`)
    ).json()) as Json;
    expect(listed).toMatchObject({ total: 2, page: 1, size: 20 });
    expect((listed.items as Json[]).map((f) => f.fileName)).toEqual(["letter (redacted).txt", "manifest.json"]);
    const bytes = await call(`/_sandbox/dastra/cloud-storage/${file.id}/content`);
    expect(await bytes.text()).toBe("Dear Jane Doe, [email removed]");

    const deleted = await api.delete(`${WS}/CloudStorage/Dastra`, [file.id, "not-an-id"]);
    expect(((await deleted.json()) as Json).deleted).toBe(1);
    const files = ((await (await control("GET", "/dastra/cloud-storage")).json()) as { files: Json[] }).files;
    expect(files.map((f) => f.fileName)).toEqual(["manifest.json", "unrelated.txt"]);
  });

  it("answers clear JSON errors: unknown or unconfigured provider, missing File, a container naming no DSR", async () => {
    const api = await dastraClient();
    const unknown = await upload(api.bearer, "Dropbox", "a.txt", "x");
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as Json).error).toBe("not_found");
    const unconfigured = await upload(api.bearer, "AmazonS3", "a.txt", "x");
    expect(unconfigured.status).toBe(400);
    expect(((await unconfigured.json()) as Json).error).toBe("provider_not_configured");
    const noFile = await call(`${WS}/CloudStorage/Dastra`, {
      method: "POST",
      headers: { Authorization: `Bearer ${api.bearer}` },
      body: new FormData(),
    });
    expect(noFile.status).toBe(400);
    const noDsr = await upload(api.bearer, "Dastra", "a.txt", "x", { containerId: "DataSubjectRequest/999999" });
    expect(noDsr.status).toBe(404);
    const badContainer = await upload(api.bearer, "Dastra", "a.txt", "x", { containerId: "elsewhere" });
    expect(badContainer.status).toBe(400);
    expect((await call(`${WS}/CloudStorage/Dastra`, { method: "GET" })).status).toBe(401);
  });
});

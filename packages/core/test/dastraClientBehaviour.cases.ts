// What the client does through Dastra's API, checked only through the client itself. Shared by core's own
// run (local double, or DASTRA_API_URL) and the system tests (sandbox emulator in a local stack), so the very
// same cases run against both without copies.
import { beforeAll, describe, expect, it } from "vitest";
import { DastraApiError } from "../src/index";
import { type ClientTarget, clientFor } from "./clientTarget";

const marker = () => `core-test-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

export function describeDastraClientBehaviour(getTarget: () => ClientTarget): void {
  describe("Dastra client behaviour", () => {
    let target: ClientTarget;
    beforeAll(() => {
      target = getTarget();
    });

    it("creates, gets, patches and moves a DSR through its workflow", async () => {
      const client = clientFor(target);
      const title = marker();
      const created = await client.dataSubjectRequests.create({
        title,
        areaId: target.areaId,
        locale: "fr",
        purposes: ["Access"],
        email: "jeanne.martin@example.org",
        givenName: "Jeanne",
        familyName: "Martin",
      });
      expect(created.id).toBeGreaterThan(0);
      expect(created.title).toBe(title);
      await client.dataSubjectRequests.patch(created.id, [
        { op: "replace", path: "/description", value: "patched by test" },
      ]);
      const fetched = await client.dataSubjectRequests.get(created.id);
      expect(fetched.description).toBe("patched by test");
      expect(fetched.email).toBe("jeanne.martin@example.org");
      await expect(client.dataSubjectRequests.workflow({ id: created.id, stepId: 2 })).resolves.toBeUndefined();
    });

    it("iterate pages to the end", async () => {
      const client = clientFor(target);
      const title = marker();
      const ids: number[] = [];
      for (let i = 0; i < 7; i++) {
        ids.push(
          (
            await client.dataSubjectRequests.create({
              title: `${title}-${i}`,
              areaId: target.areaId,
              locale: "en",
              purposes: ["Erasure"],
            })
          ).id,
        );
      }
      const seen: number[] = [];
      for await (const dsr of client.dataSubjectRequests.iterate({ search: title, size: 3 })) seen.push(dsr.id);
      expect(seen.sort()).toEqual(ids.sort());
      const firstPage = await client.dataSubjectRequests.list({ search: title, size: 3, page: 1 });
      expect(firstPage).toMatchObject({ total: 7, size: 3, page: 1 });
      expect(firstPage.items).toHaveLength(3);
    });

    it("uploads an attachment as multipart and downloads it back, byte for byte", async () => {
      const client = clientFor(target);
      const dsr = await client.dataSubjectRequests.create({
        title: marker(),
        areaId: target.areaId,
        locale: "en",
        purposes: ["Portability"],
      });
      const bytes = Uint8Array.from({ length: 3000 }, (_, i) => (i * 7) % 256);
      const uploaded = await client.dataSubjectAttachments.upload(dsr.id, {
        fileName: "export-données.bin",
        contentType: "application/octet-stream",
        body: bytes,
      });
      expect(uploaded.fileName).toBe("export-données.bin");
      expect(uploaded.size).toBe(bytes.length);
      const listed = await client.dataSubjectAttachments.list(dsr.id);
      expect(listed.map((a) => a.id)).toContain(uploaded.id);
      const response = await client.dataSubjectAttachments.download(dsr.id, uploaded.id);
      expect(new Uint8Array(await response.arrayBuffer())).toEqual(bytes);
    });

    it("posts a DSR message, a task, an actor and a generic relationship", async () => {
      const client = clientFor(target);
      const dsr = await client.dataSubjectRequests.create({
        title: marker(),
        areaId: target.areaId,
        locale: "en",
        purposes: ["Access"],
      });
      await client.dataSubjectMessages.create({ message: "Your export is ready.", dataSubjectRequestId: dsr.id });
      const task = await client.tasks.create({
        label: marker(),
        objectType: "DataSubject",
        objectId: String(dsr.id),
        state: "Open",
      });
      await client.tasks.patch(task.id, [{ op: "replace", path: "/state", value: "Closed" }]);
      expect((await client.tasks.get(task.id)).state).toBe("Closed");
      const name = marker();
      const actor = await client.actors.create({ actorType: "Morale", companyName: name });
      const found = await client.actors.list(name);
      expect(found.items.map((a) => a.id)).toContain(actor.id);
      const processor = await client.actors.create({ actorType: "Morale", companyName: `${name} processor` });
      await client.genericRelationships.create({
        originId: String(actor.id),
        originType: "Actor",
        targetType: "Actor",
        targetIds: [String(processor.id)],
        label: "sub-processor",
      });
    });

    it("manages webhooks: create, list, delete", async () => {
      const client = clientFor(target);
      const url = `https://example.org/${marker()}`;
      const hook = await client.webHookUrls.create({
        url,
        workSpaceId: target.options.workspaceId,
        subscribedEvents: ["DataSubjectCreation", "TaskEdit"],
      });
      expect(hook.url).toBe(url);
      expect((await client.webHookUrls.list()).map((h) => h.id)).toContain(hook.id);
      await client.webHookUrls.delete(hook.id);
      expect((await client.webHookUrls.list()).map((h) => h.id)).not.toContain(hook.id);
    });

    it("a bad request fails at once with Dastra's message", async () => {
      const client = clientFor(target);
      const error = await client.tasks.create({ label: "" }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DastraApiError);
      expect(error).toMatchObject({ status: 400, method: "POST", retryable: false });
      expect((error as DastraApiError).endpoint).toMatch(/\/v1\/ws\/\d+\/Tasks$/);
      expect((error as DastraApiError).dastraMessage).toBeTruthy();
    });
  });
}

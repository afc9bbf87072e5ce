import type { ConnectorOutcome } from "@dastra/core/connectorContract";
import type { DataSubjectRequest } from "@dastra/core/dastraSchemas";
import { defineConnector, type HandlerContext } from "@dastra/core/kit/defineConnector";
import { type CmsConfig, cmsConfig } from "./cmsConfig";
import type { CmsEnv } from "./cmsEnv";
import { accessJob } from "./dsr/accessJob";
import { wantsCopies, wantsErasure } from "./dsr/dataSubject";
import { erasureJob } from "./dsr/erasureJob";

type Ctx = HandlerContext<CmsEnv, CmsConfig>;

/** The DSR of the event, re-read when the webhook did not carry its purposes. */
async function dsrOf(ctx: Ctx): Promise<DataSubjectRequest | null> {
  if (!ctx.dsr) return null;
  return ctx.dsr.purposes ? ctx.dsr : ctx.dastra.dataSubjectRequests.get(ctx.dsr.id);
}

const nothingToDo = (why: string): ConnectorOutcome => ({ status: "done", summary: `Documents: ${why}` });

/**
 * Documents (SharePoint / OneDrive through Microsoft Graph). Access / portability DSR created: the job `access`
 * attaches redacted copies of the documents mentioning the subject, with a manifest. Erasure DSR whose identity is
 * validated: the job `erasure` reports them (default) or masks the subject in place. One job per DSR and kind:
 * redeliveries and replays join it or get its final outcome.
 */
export const cms = defineConnector<CmsEnv, CmsConfig>({
  name: "cms",
  label: "Documents",
  config: cmsConfig,
  handlers: {
    async DataSubjectCreation(ctx) {
      const dsr = await dsrOf(ctx);
      if (!dsr) return { status: "failed", reason: "the event carries no DSR", summary: "Documents: no DSR" };
      if (wantsCopies(dsr)) return ctx.startJob("access", `dsr:${dsr.id}`, { dsrId: dsr.id });
      if (wantsErasure(dsr) && dsr.identityValidated)
        return ctx.startJob("erasure", `dsr:${dsr.id}`, { dsrId: dsr.id });
      if (wantsErasure(dsr)) return nothingToDo("erasure waits for the identity validation");
      return nothingToDo("no document work for this request's purposes");
    },
    async DataSubjectIdentityValidated(ctx) {
      const dsr = await dsrOf(ctx);
      if (!dsr) return { status: "failed", reason: "the event carries no DSR", summary: "Documents: no DSR" };
      if (wantsErasure(dsr)) return ctx.startJob("erasure", `dsr:${dsr.id}`, { dsrId: dsr.id });
      return nothingToDo("no erasure requested");
    },
  },
  jobs: { access: accessJob, erasure: erasureJob },
});

// The connector's pure parts: ADF without raw newlines, Dastra HTML to ADF, DSR/Task -> issue fields (no personal
// data by default, due date in the workspace's zone), transition choice by status category. (Jira's signature
// vectors are the kit's: packages/core/test/kit/webhookVerifiers.test.ts.)
import { describe, expect, it } from "vitest";
import { htmlToRichText } from "../src/issue/htmlToRichText";
import { dateInZone, dsrIssueFields, isMirroredTask, taskIssueFields } from "../src/issue/issueContent";
import { paragraphsOf } from "../src/issue/richText";
import { markerLabel, parseMarkerLabel } from "../src/issue/taskTracker";
import { type AdfNode, toAtlassianDocument } from "../src/jira/atlassianDocument";
import { transitionInto } from "../src/jira/jiraTracker";
import { type TasksConfig, tasksConfig } from "../src/tasksConfig";

const config: TasksConfig = tasksConfig({
  JIRA_BASE_URL: "http://127.0.0.1:8788/jira",
  JIRA_EMAIL: "sandbox@example.com",
  JIRA_API_TOKEN: "sandbox-jira",
  JIRA_WEBHOOK_SECRET: "sandbox-jira-secret",
  JIRA_PROJECT_KEY: "PRIV",
  TASKS_ADMIN_TOKEN: "t",
  ASSIGNEE_MAP: '{"12": "712020:abc"}',
} as never);

function textNodes(nodes: AdfNode[]): AdfNode[] {
  return nodes.flatMap((n) => [...(n.type === "text" ? [n] : []), ...textNodes(n.content ?? [])]);
}

describe("ADF", () => {
  it("never puts a newline in a text node, nor an empty text: lines become hardBreaks, blank lines paragraphs", () => {
    const doc = toAtlassianDocument(paragraphsOf("First line\nsecond line\r\n\r\nNew paragraph\n\n\n"));
    expect(doc).toEqual({
      type: "doc",
      version: 1,
      content: [
        {
          type: "paragraph",
          content: [{ type: "text", text: "First line" }, { type: "hardBreak" }, { type: "text", text: "second line" }],
        },
        { type: "paragraph", content: [{ type: "text", text: "New paragraph" }] },
      ],
    });
    const sneaky = toAtlassianDocument([{ kind: "paragraph", inlines: [{ kind: "text", text: "a\n\nb" }] }]);
    for (const node of textNodes(sneaky.content)) {
      expect(node.text).not.toMatch(/[\r\n]/);
      expect(node.text).not.toBe("");
    }
  });
});

describe("HTML (Dastra descriptionHtml) to rich text", () => {
  it("keeps paragraphs, breaks, lists, headings, bold/italic and http(s) links; decodes entities; drops scripts", () => {
    const doc = toAtlassianDocument(
      htmlToRichText(
        '<h2>Steps</h2><p>Export the <strong>CRM</strong> data&nbsp;&amp; check<br>the <a href="https://x.example/a?b=1&amp;c=2">log</a>.</p>' +
          '<ul><li>one</li><li><em>two</em></li></ul><script>alert(1)</script><p><a href="javascript:x()">bad</a></p><p>  </p>',
      ),
    );
    expect(doc.content).toEqual([
      { type: "heading", attrs: { level: 2 }, content: [{ type: "text", text: "Steps" }] },
      {
        type: "paragraph",
        content: [
          { type: "text", text: "Export the " },
          { type: "text", text: "CRM", marks: [{ type: "strong" }] },
          { type: "text", text: " data\u00a0& check" },
          { type: "hardBreak" },
          { type: "text", text: "the " },
          { type: "text", text: "log", marks: [{ type: "link", attrs: { href: "https://x.example/a?b=1&c=2" } }] },
          { type: "text", text: "." },
        ],
      },
      {
        type: "bulletList",
        content: [
          { type: "listItem", content: [{ type: "paragraph", content: [{ type: "text", text: "one" }] }] },
          {
            type: "listItem",
            content: [{ type: "paragraph", content: [{ type: "text", text: "two", marks: [{ type: "em" }] }] }],
          },
        ],
      },
      { type: "paragraph", content: [{ type: "text", text: "bad" }] },
    ]);
    expect(htmlToRichText("")).toEqual([]);
    expect(htmlToRichText("plain\ntext")).toEqual([
      { kind: "paragraph", inlines: [{ kind: "text", text: "plain text" }] },
    ]);
  });
});

describe("DSR and Task as issues", () => {
  const dsr = {
    id: 42,
    title: "Access request from Jane Doe <jane.doe@example.com>",
    refId: "R-42",
    purposes: ["Access", "Erasure"],
    state: "Open",
    email: "jane.doe@example.com",
    givenName: "Jane",
    familyName: "Doe",
    // 23:30 UTC on the 14th is already the 15th in Paris.
    expiryTime: "2026-12-14T23:30:00Z",
    dateCreation: "2026-11-14T10:00:00Z",
    locale: "en",
  };

  it("summary from the DSR's number + purposes, due date = expiryTime's date in the workspace's zone, labels dsr + purposes", () => {
    const fields = dsrIssueFields(dsr, config);
    expect(fields.summary).toBe("Data subject request #42 (R-42) · Access, Erasure");
    expect(fields.dueDate).toBe("2026-12-15");
    expect(dateInZone("2026-12-14T23:30:00Z", "America/New_York")).toBe("2026-12-14");
    expect(fields.labels).toEqual(["dsr", "access", "erasure"]);
    const adf = JSON.stringify(toAtlassianDocument(fields.description ?? []));
    expect(adf).toContain("https://app.dastra.eu/1/data-subject-requests/42");
  });

  it("copies no subject email or name into Jira unless configured", () => {
    const everything = JSON.stringify(dsrIssueFields(dsr, config));
    for (const personal of ["jane.doe@example.com", "Jane", "Doe"]) expect(everything).not.toContain(personal);
    const opted = JSON.stringify(dsrIssueFields(dsr, { ...config, COPY_SUBJECT_FIELDS: ["email"] }));
    expect(opted).toContain("jane.doe@example.com");
    expect(opted).not.toContain("Jane");
    // The title names the requester: copied only when asked, and then with its email still masked.
    const titled = dsrIssueFields(dsr, { ...config, COPY_SUBJECT_FIELDS: ["title"] });
    expect(titled.summary).toMatch(/^Access request from Jane Doe <.+> · Access, Erasure$/);
    expect(JSON.stringify(titled)).not.toContain("jane.doe@example.com");
  });

  it("a Task: label, HTML description, deadline, priority, mapped assignee; mirrored only when linked to a DSR and not the router's", () => {
    const task = {
      id: 7,
      label: "Export CRM data",
      descriptionHtml: "<p>Line one<br/>Line two</p>",
      priority: "High",
      deadline: "2026-12-01T08:00:00Z",
      assignedToUserId: 12,
      objectType: "DataSubject",
      objectId: "42",
      state: "Open",
    };
    const fields = taskIssueFields(task, config);
    expect(fields).toMatchObject({
      summary: "Export CRM data",
      dueDate: "2026-12-01",
      priority: "high",
      assigneeAccountId: "712020:abc",
      labels: ["dastra-task"],
    });
    expect(taskIssueFields({ ...task, assignedToUserId: 99 }, config).assigneeAccountId).toBeNull();
    expect(isMirroredTask(task, config)).toBe(true);
    expect(isMirroredTask({ ...task, objectType: "DataBreach" }, config)).toBe(false);
    expect(isMirroredTask({ ...task, additionalDatas: { routerReport: "dastra-router/outcome-report" } }, config)).toBe(
      false,
    );
    expect(isMirroredTask({ ...task, ownerId: 5 }, { ...config, EXCLUDED_TASK_OWNER_IDS: [5] })).toBe(false);
  });

  it("marker labels name the object and parse back", () => {
    expect(markerLabel({ kind: "dsr", dastraId: 42 })).toBe("dastra-dsr-42");
    expect(parseMarkerLabel("dastra-task-7")).toEqual({ kind: "task", dastraId: 7 });
    expect(parseMarkerLabel("dastra-dsr-x")).toBeNull();
  });
});

describe("transitions", () => {
  it("chooses the transition by the target's status category, whatever its id", () => {
    const review = [
      { id: "411", to: { statusCategory: { key: "indeterminate" } } },
      { id: "421", to: { statusCategory: { key: "done" } } },
    ];
    expect(transitionInto(review, "done")).toBe("421");
    expect(transitionInto(review, "new")).toBeNull();
  });
});

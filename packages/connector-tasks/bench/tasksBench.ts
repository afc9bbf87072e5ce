// pnpm bench (connector-tasks): DSR-to-issue time (p50, p95) and API calls per mirrored edit, in one Miniflare with
// the sandbox, the router and this connector. Prints the figures; `-- --write` puts them in BENCHMARKS.md (its own
// section, after the router's notes marker, which the router's bench keeps).
import { machineLine, recordBenchSection } from "../../../test/bench/benchmarksSection";
import { sandboxDastra, waitFor } from "../../../test/routerHarness";
import * as h from "../../../test/tasksHarness";

const DSRS = Number(process.env.BENCH_TASKS_DSRS ?? 30);
const EDITS = Number(process.env.BENCH_TASKS_EDITS ?? 20);
const START = "<!-- tasks-bench:start -->";
const END = "<!-- tasks-bench:end -->";

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

async function main() {
  const stack = await h.startTasksStack();
  try {
    const dastra = sandboxDastra(stack);
    // Warm-up: the first DSR pays for module loading and tokens.
    const warm = await dastra.dataSubjectRequests.create({
      title: "Warm-up",
      areaId: 1,
      locale: "en",
      purposes: ["Access"],
    });
    await h.oneIssue(stack, `dastra-dsr-${warm.id}`);

    const times: number[] = [];
    for (let i = 0; i < DSRS; i++) {
      const t0 = performance.now();
      const dsr = await dastra.dataSubjectRequests.create({
        title: `Bench ${i}`,
        areaId: 1,
        locale: "en",
        purposes: ["Access"],
      });
      await waitFor("issue", async () => (await h.issuesWithLabel(stack, `dastra-dsr-${dsr.id}`)).length === 1, 30_000);
      times.push(performance.now() - t0);
    }
    const sorted = [...times].sort((a, b) => a - b);

    // Dastra -> Jira: label edits of one mirrored task, each waited for on the issue.
    const dsr = await dastra.dataSubjectRequests.create({
      title: "Edits",
      areaId: 1,
      locale: "en",
      purposes: ["Access"],
    });
    const task = await dastra.tasks.create({ label: "Edit 0", objectType: "DataSubject", objectId: String(dsr.id) });
    const issue = await h.oneIssue(stack, `dastra-task-${task.id}`);
    await h.quiescent(stack, 1500);
    let jira0 = await h.jiraRequests(stack);
    let dastra0 = await h.connectorDastraCalls(stack);
    for (let i = 1; i <= EDITS; i++) {
      await dastra.tasks.patch(task.id, [{ op: "replace", path: "/label", value: `Edit ${i}` }]);
      await waitFor(
        "edit",
        async () => (await h.issuesWithLabel(stack, `dastra-task-${task.id}`))[0]?.fields.summary === `Edit ${i}`,
      );
    }
    await h.quiescent(stack, 1500);
    const outJira = ((await h.jiraRequests(stack)) - jira0) / EDITS;
    const outDastra = ((await h.connectorDastraCalls(stack)) - dastra0) / EDITS;

    // Jira -> Dastra: a person moves the issue (2 requests of theirs each), the task follows.
    jira0 = await h.jiraRequests(stack);
    dastra0 = await h.connectorDastraCalls(stack);
    for (let i = 1; i <= EDITS; i++) {
      const done = i % 2 === 1;
      await h.moveIssue(stack, issue.key, done ? "done" : "new");
      await waitFor("task follows", async () => (await dastra.tasks.get(task.id)).state === (done ? "Closed" : "Open"));
    }
    await h.quiescent(stack, 1500);
    const inJira = ((await h.jiraRequests(stack)) - jira0 - 2 * EDITS) / EDITS;
    const inDastra = ((await h.connectorDastraCalls(stack)) - dastra0) / EDITS;

    const f = (n: number) => n.toFixed(1);
    const report = `## Tasks connector (Jira): DSR to issue, API calls per mirrored edit

Command: \`pnpm --filter @dastra/connector-tasks bench\` (\`BENCH_TASKS_DSRS\`, \`BENCH_TASKS_EDITS\` override; \`-- --write\` updates this section).
${machineLine()}
Sandbox + router + connector-tasks in one Miniflare; Dastra webhooks without the real 60-120 s lag.

- **DSR created in Dastra -> its Jira issue exists** (Dastra webhook -> router -> connector -> Jira), ${DSRS} DSRs one after another:
  p50 **${f(percentile(sorted, 50))} ms**, p95 **${f(percentile(sorted, 95))} ms** (min ${f(sorted[0] ?? 0)}, max ${f(sorted.at(-1) ?? 0)}).
- **Dastra -> Jira, per Task edit** (${EDITS} label edits, echoes included): ${f(outJira)} Jira calls, ${f(outDastra)} Dastra calls.
- **Jira -> Dastra, per issue move by a person** (${EDITS} moves, the person's own 2 requests excluded, echoes included):
  ${f(inJira)} Jira calls, ${f(inDastra)} Dastra calls.
`;
    recordBenchSection(START, END, report);
  } finally {
    await stack.dispose();
  }
}

await main();

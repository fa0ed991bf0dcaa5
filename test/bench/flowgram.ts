/**
 * FlowGram benchmark (part of `npm run bench`, or alone: `tsx --no-node-snapshot test/bench/flowgram.ts`):
 * a 1,000-iteration loop whose body is a code node, run by Switchboard's engine (through a real hub on
 * port 0: HTTP in, SQLite events, code nodes in the isolated-vm sandbox) and by `@flowgram.ai/runtime-js`
 * (FlowGram's own runtime, code nodes in QuickJS) in this same process. Prints tasks/s, node executions per
 * CPU-second for each, and the ratio. BENCH_FLOW_ITERATIONS, BENCH_FLOW_TASKS, BENCH_FLOW_PROFILE=1.
 */
import { isTerminal, SwitchboardClient, type TaskSummary } from '../../client/sdk/index.js';
import { expectedResults, loopInputs, loopSchema } from '../helpers/flowgram-loop.js';
import { startTestHub } from '../helpers/hub.js';
import { profileTop } from './profile.js';

const ITERATIONS = Number(process.env['BENCH_FLOW_ITERATIONS'] ?? 1000);
const TASKS_FULL = Number(process.env['BENCH_FLOW_TASKS'] ?? 5);
let TASKS = TASKS_FULL;
const ROUNDS = Number(process.env['BENCH_FLOW_ROUNDS'] ?? 3);
const PROFILE = process.env['BENCH_FLOW_PROFILE'] === '1';

interface Sample {
  wallMs: number;
  cpuMs: number;
  /** Node executions: snapshots in the FlowGram reports of all tasks of the sample. */
  nodes: number;
}

/** An engine under test: runs one task to its end and returns its result and its node execution count. */
type Engine = (
  schema: string,
  inputs: Record<string, unknown>,
) => Promise<{ result: unknown; nodes: number }>;

function snapshotCount(reports: unknown): number {
  let n = 0;
  for (const report of Object.values((reports ?? {}) as Record<string, { snapshots?: unknown[] }>)) {
    n += report.snapshots?.length ?? 0;
  }
  return n;
}

function checkResult(engine: string, result: unknown): void {
  const got = JSON.stringify((result as { results?: unknown } | undefined)?.results);
  if (got !== JSON.stringify(expectedResults(ITERATIONS))) {
    throw new Error(`${engine} returned a wrong result: ${String(got).slice(0, 200)}`);
  }
}

/** Runs TASKS tasks one after another, measuring wall time and this process's CPU time. */
async function sample(name: string, engine: Engine): Promise<Sample> {
  const schema = JSON.stringify(loopSchema());
  const inputs = loopInputs(ITERATIONS);
  const cpu = process.cpuUsage();
  const start = performance.now();
  let nodes = 0;
  for (let i = 0; i < TASKS; i += 1) {
    const run = await engine(schema, inputs);
    checkResult(name, run.result);
    nodes += run.nodes;
  }
  const wallMs = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { wallMs, cpuMs: (used.user + used.system) / 1000, nodes };
}

async function flowgramRuntime(): Promise<Engine> {
  const { TaskRunAPI, TaskResultAPI, TaskReportAPI } = await import('@flowgram.ai/runtime-js');
  return async (schema, inputs) => {
    // runtime-js logs every API call and every result with console.log: keep the bench's output readable.
    const log = console.log;
    console.log = () => {};
    try {
      const { taskID } = await TaskRunAPI({ schema, inputs });
      // It offers no completion callback: poll its result (cheap: undefined until the task has ended).
      let result: unknown = await TaskResultAPI({ taskID });
      while (result === undefined) {
        await new Promise((r) => setTimeout(r, 1));
        result = await TaskResultAPI({ taskID });
      }
      const report = await TaskReportAPI({ taskID });
      return { result, nodes: snapshotCount(report?.reports) };
    } finally {
      console.log = log;
    }
  };
}

/**
 * Switchboard through its native API. The end of a task comes from the status feed (one summary per status
 * change), not from following the task's room: streaming thousands of node events to a client in this same
 * process would bill the client's parsing to the hub.
 */
async function switchboard(client: SwitchboardClient): Promise<Engine> {
  const socket = client.socket;
  if (!socket) throw new Error('connect the client first');
  const ended = new Map<string, TaskSummary>();
  const waiters = new Map<string, (summary: TaskSummary) => void>();
  socket.on('task:summary', (summary) => {
    if (!isTerminal(summary.status)) return;
    const waiter = waiters.get(summary.id);
    if (waiter) waiter(summary);
    else ended.set(summary.id, summary);
  });
  await socket.timeout(10_000).emitWithAck('feed:subscribe', {});
  const end = (id: string) =>
    new Promise<TaskSummary>((resolve) => {
      const seen = ended.get(id);
      if (seen) resolve(seen);
      else waiters.set(id, resolve);
    });
  return async (schema, inputs) => {
    const task = await client.runFlow(schema, inputs);
    const done = await end(task.id);
    waiters.delete(task.id);
    ended.delete(task.id);
    if (done.status !== 'succeeded') throw new Error(`switchboard task ${task.id} ${done.status}`);
    const report = await client.flowReport(task.id);
    return { result: report.outputs, nodes: snapshotCount(report.reports) };
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const tasksPerSec = (s: Sample) => (TASKS / s.wallMs) * 1000;
const nodesPerCpuSec = (s: Sample) => (s.nodes / s.cpuMs) * 1000;

/** One round: each engine's tasks/s and node executions per CPU-second. */
export interface FlowgramRound {
  switchboard: { tps: number; npc: number };
  runtimeJs: { tps: number; npc: number };
}

/**
 * Runs the benchmark, prints it, and returns its rounds (for run.ts's figures). `tasks` per sample: 5 by
 * default (BENCH_FLOW_TASKS), fewer for `--quick`.
 */
export async function benchFlowgram(opts: { tasks?: number } = {}): Promise<FlowgramRound[]> {
  TASKS = opts.tasks ?? TASKS_FULL;
  const hub = await startTestHub();
  const client = new SwitchboardClient({
    url: hub.url,
    token: hub.tokens.operator,
    requestTimeoutMs: 60_000,
  });
  await client.connect();
  try {
    const engines: Array<[string, Engine]> = [
      ['@flowgram.ai/runtime-js', await flowgramRuntime()],
      ['switchboard (isolated-vm)', await switchboard(client)],
    ];
    // Warm both (QuickJS's wasm, isolates, JIT) before anything is timed.
    for (const [name, engine] of engines)
      checkResult(name, (await engine(JSON.stringify(loopSchema()), loopInputs(ITERATIONS))).result);
    const samples = new Map<string, Sample[]>(engines.map(([name]) => [name, []]));
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const [name, engine] of engines) samples.get(name)?.push(await sample(name, engine));
    }
    console.log(
      `flowgram: ${ITERATIONS}-iteration loop with a code node, ${TASKS} tasks per sample, median of ${ROUNDS} rounds`,
    );
    const rows = engines.map(([name]) => {
      const list = samples.get(name) ?? [];
      const tps = median(list.map(tasksPerSec));
      const npc = median(list.map(nodesPerCpuSec));
      console.log(
        `  ${name.padEnd(26)} ${tps.toFixed(2).padStart(7)} tasks/s  ${npc.toFixed(0).padStart(7)} node executions/CPU-s  (${list[0]?.nodes ?? 0} node executions per sample)`,
      );
      return { tps, npc };
    });
    const [upstream, ours] = rows as [{ tps: number; npc: number }, { tps: number; npc: number }];
    console.log(
      `  ratio switchboard/runtime-js: ${(ours.tps / upstream.tps).toFixed(2)}x tasks/s, ${(ours.npc / upstream.npc).toFixed(2)}x node executions per CPU-second`,
    );
    const [upstreamName, oursName] = engines.map(([name]) => name) as [string, string];
    const rounds: FlowgramRound[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      const up = samples.get(upstreamName)?.[round];
      const sb = samples.get(oursName)?.[round];
      if (!up || !sb) continue;
      rounds.push({
        switchboard: { tps: tasksPerSec(sb), npc: nodesPerCpuSec(sb) },
        runtimeJs: { tps: tasksPerSec(up), npc: nodesPerCpuSec(up) },
      });
    }
    if (PROFILE) {
      const [, engine] = engines[1] as [string, Engine];
      const top = await profileTop(async () => {
        await engine(JSON.stringify(loopSchema()), loopInputs(ITERATIONS));
      });
      console.log('  profile of one switchboard task (self time):');
      for (const line of top) console.log(`    ${line}`);
    }
    return rounds;
  } finally {
    await client.close();
    await hub.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await benchFlowgram();
  process.exit(0);
}

/**
 * `npm run bench [-- --quick] [-- --check]`: every hot path of the hub against a bare baseline measured in the
 * same run. The servers run as child processes pinned to core 0, this process (the load) to core 1, where
 * `taskset` exists; server CPU comes from /proc/<pid>/stat. Each figure is the median of 3 rounds with the
 * spread of its ratio. Results go to bench-results.json; `--check` compares the ratios with the committed
 * test/bench/baseline.json and fails on one more than BENCH_GATE_FACTOR (default 2) times worse.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { appendAcrossTasks } from './append-run.js';
import { dispatchConcurrent, dispatchSequential } from './dispatch.js';
import { fanoutRawWs, fanoutSocketIo } from './fanout.js';
import { benchFlowgram } from './flowgram.js';
import { heapPerSubscriber } from './memory.js';
import { type BenchServer, fileLimit, PINNED, pinLoad, startServer } from './proc.js';
import type { ServerKind } from './protocol.js';
import { replayOverSocket } from './replay.js';
import { type Figure, figure, printFigure, regressions, type Sample } from './stats.js';
import { tokenSource, tokenStream } from './tokens.js';

pinLoad();
const quick = process.argv.includes('--quick');
const check = process.argv.includes('--check');
const ROUNDS = 3;
/** Subscribers the memory figure should hold (the performance issue's 20,000); the open-files limit may cap it. */
const SUBS_WANTED = 20_000;
const N = quick
  ? {
      fan500: 24,
      fan2000: 6,
      ws: 24,
      tokens: 1_000,
      seq: 200,
      conc: 480,
      append: 20_000,
      replay: 10_000,
      subs: Number(process.env['BENCH_SUBS'] ?? 1_000),
    }
  : {
      fan500: 200,
      fan2000: 60,
      ws: 200,
      tokens: 2_000,
      seq: 2_000,
      conc: 4_000,
      append: 100_000,
      replay: 100_000,
      // One socket per subscriber on each side: where the open-files limit cannot be raised past 20,000 (a
      // container without CAP_SYS_RESOURCE), as many as fit under it with room for the processes' own files.
      subs: Number(process.env['BENCH_SUBS'] ?? Math.min(SUBS_WANTED, fileLimit() - 500)),
    };
if (!quick && !process.env['BENCH_SUBS'] && N.subs < SUBS_WANTED)
  console.log(
    `bench: ${SUBS_WANTED.toLocaleString('en')} subscribers cannot be held here: the open-files limit is ${fileLimit().toLocaleString('en')} per process (one socket per subscriber on each side); the memory figure holds ${N.subs.toLocaleString('en')}`,
  );
const figures: Figure[] = [];
const only = process.env['BENCH_ONLY']?.split(',');
const wanted = (id: string) => !only || only.some((o) => id.startsWith(o));

// The model every server streams tokens from, and one server process per kind, shared by the scenarios.
const source = await tokenSource(N.tokens);
const servers = new Map<ServerKind, Promise<BenchServer>>();
const server = (kind: ServerKind) => {
  let s = servers.get(kind);
  if (!s) {
    s = startServer(kind, source.url);
    servers.set(kind, s);
  }
  return s;
};

/** Runs `measure` on the baseline and on the hub, alternating, for each round. */
async function rounds<T>(
  baseKind: ServerKind,
  measure: (s: BenchServer) => Promise<T>,
  opts: { setup?: (s: BenchServer) => Promise<void> } = {},
): Promise<Array<{ hub: T; base: T }>> {
  const hub = await server('hub');
  const base = await server(baseKind);
  await opts.setup?.(hub);
  await opts.setup?.(base);
  const out: Array<{ hub: T; base: T }> = [];
  for (let i = 0; i < ROUNDS; i++) {
    const b = await measure(base);
    const h = await measure(hub);
    out.push({ hub: h, base: b });
  }
  return out;
}

function add(f: Figure): void {
  figures.push(f);
  printFigure(f);
}

const lower = { better: 'lower' as const };

if (wanted('fanout-500')) {
  const r = await rounds('socket.io', (s) => fanoutSocketIo(s, 500, N.fan500));
  add(
    figure(
      {
        id: 'fanout-500',
        label: 'fan-out, 500 subscribers (CPU per delivery)',
        unit: 'us',
        target: 1.0,
        ...lower,
      },
      r,
    ),
  );
}
if (wanted('fanout-2000')) {
  const r = await rounds('socket.io', (s) => fanoutSocketIo(s, 2_000, N.fan2000));
  add(
    figure(
      {
        id: 'fanout-2000',
        label: 'fan-out, 2,000 subscribers (CPU per delivery)',
        unit: 'us',
        target: 1.0,
        ...lower,
      },
      r,
    ),
  );
}
if (wanted('raw-ws')) {
  const r = await rounds('ws', (s) => fanoutRawWs(s, 500, N.ws));
  add(
    figure(
      {
        id: 'raw-ws',
        label: 'raw-ws monitor, 500 subscribers (CPU per delivery)',
        unit: 'us',
        target: 1.3,
        ...lower,
      },
      r,
    ),
  );
}
if (wanted('tokens')) {
  const r = await rounds('socket.io', (s) => tokenStream(s, source, N.tokens, 100));
  add(
    figure(
      {
        id: 'tokens',
        label: 'tokens to 100 subscribers (bare CPU / hub CPU)',
        unit: 'us/tok',
        target: 5,
        better: 'higher',
        speedup: true,
      },
      r,
    ),
  );
}
if (wanted('dispatch')) {
  const seq = await rounds('fastify', (s) => dispatchSequential(s, N.seq));
  add(
    figure(
      {
        id: 'dispatch-seq',
        label: '/execute sequential (server CPU per task)',
        unit: 'ms',
        target: 1.5,
        ...lower,
      },
      seq,
    ),
  );
  const conc = await rounds('fastify', (s) => dispatchConcurrent(s, N.conc));
  add(
    figure(
      {
        id: 'dispatch-tput',
        label: '8 submitters x 4 hosts (tasks/s)',
        unit: 'tasks/s',
        target: 0.9,
        better: 'higher',
      },
      conc.map((c) => ({ hub: c.hub.perSecond, base: c.base.perSecond })),
    ),
  );
  add(
    figure(
      {
        id: 'dispatch-p99',
        label: '8 submitters x 4 hosts (p99 round trip)',
        unit: 'ms',
        target: 1.2,
        ...lower,
      },
      conc.map((c) => ({ hub: c.hub.p99, base: c.base.p99 })),
    ),
  );
}
if (wanted('append')) {
  const r: Sample[] = [];
  for (let i = 0; i < ROUNDS; i++) r.push(await appendAcrossTasks(10_000, N.append));
  add(
    figure(
      {
        id: 'append',
        label: 'event append across 10k tasks (CPU per event)',
        unit: 'us',
        target: 1.3,
        ...lower,
      },
      r,
    ),
  );
}
if (wanted('replay')) {
  const ids = new Map<BenchServer, string>();
  const r = await rounds('socket.io', (s) => replayOverSocket(s, ids.get(s) ?? '', N.replay), {
    setup: async (s) => {
      ids.set(s, (await s.request({ cmd: 'seed', events: N.replay })).taskId);
    },
  });
  add(
    figure(
      {
        id: 'replay',
        label: `replay of a ${N.replay / 1000}k-event task (CPU per event)`,
        unit: 'us',
        target: 1.3,
        ...lower,
      },
      r,
    ),
  );
}
if (wanted('memory')) {
  const r = await rounds('socket.io', (s) => heapPerSubscriber(s, N.subs));
  add(
    figure(
      {
        id: 'memory',
        label: `heap per idle subscriber (${N.subs.toLocaleString('en')} held${!quick && N.subs < SUBS_WANTED ? `; ${SUBS_WANTED.toLocaleString('en')} exceed the open-files limit` : ''})`,
        unit: 'KB',
        target: 1.1,
        ...lower,
      },
      r.map((x) => ({ hub: x.hub / 1024, base: x.base / 1024 })),
    ),
  );
}

for (const s of servers.values()) await (await s).stop();
await source.close();

// A 1,000-iteration loop with a code node: Switchboard (real hub in this process, isolated-vm sandbox) against
// @flowgram.ai/runtime-js running the same schema in this same process. `--quick`: one task per sample.
if (wanted('flowgram')) {
  const r = await benchFlowgram(quick ? { tasks: 1 } : {});
  add(
    figure(
      {
        id: 'flowgram-tput',
        label: 'FlowGram 1,000-iteration code loop vs runtime-js (tasks/s)',
        unit: 'tasks/s',
        target: 1.0,
        better: 'higher',
      },
      r.map((x) => ({ hub: x.switchboard.tps, base: x.runtimeJs.tps })),
    ),
  );
  add(
    figure(
      {
        id: 'flowgram-cpu',
        label: 'FlowGram 1,000-iteration code loop (node executions/CPU-s)',
        unit: 'exec/CPU-s',
        target: 1.0,
        better: 'higher',
      },
      r.map((x) => ({ hub: x.switchboard.npc, base: x.runtimeJs.npc })),
    ),
  );
}

const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memGB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  pinned: PINNED,
  quick,
};
const results = { date: new Date().toISOString(), machine, figures };
writeFileSync('bench-results.json', `${JSON.stringify(results, null, 2)}\n`);
console.log(
  `\n${machine.cpu}, ${machine.cores} cores, ${machine.memGB} GB, node ${machine.node}; server and load ${PINNED ? 'pinned to separate cores' : 'NOT pinned (no taskset)'}; results in bench-results.json`,
);

if (check && !existsSync(new URL('./baseline.json', import.meta.url))) {
  console.log('bench: no test/bench/baseline.json to compare with; copy a --quick bench-results.json there');
} else if (check) {
  const committed = JSON.parse(readFileSync(new URL('./baseline.json', import.meta.url), 'utf8')) as {
    figures: Figure[];
  };
  const factor = Number(process.env['BENCH_GATE_FACTOR'] ?? 2);
  const bad = regressions(figures, committed.figures, factor);
  if (bad.length) {
    console.error(
      `bench: even the best round is more than ${factor}x worse than test/bench/baseline.json:\n  ${bad.join('\n  ')}`,
    );
    process.exit(1);
  }
  console.log(`bench: every ratio within ${factor}x of test/bench/baseline.json`);
}
process.exit(0);

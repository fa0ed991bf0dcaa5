/**
 * Dispatch: `/execute` round trips through a host, against bare Fastify + Socket.IO `emitWithAck` (the host
 * answers the job in its ack). The hub's host speaks the real protocol, answering as a host that ran the job
 * before acking does: the whole report in the ack (the `result-report` feature).
 */
import { io, type Socket } from 'socket.io-client';
import { cpuAcross, postJson, sio, sleep, TOKENS } from './load.js';
import type { BenchServer } from './proc.js';
import { median } from './stats.js';

/**
 * A hub host as lean as the bare one: registers, and answers each job in its ack with the whole report (the
 * `result-report` feature: start, output and end folded into the ack of a job that ended before it acked).
 */
/** Host secrets by name: a round's hosts register again under the ids of the last round's. */
const secrets = new Map<string, string>();

async function hubHost(url: string, name: string): Promise<Socket> {
  const s = io(`${url}/extension`, {
    auth: { token: TOKENS.extension },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  });
  await new Promise<void>((resolve, reject) => {
    s.once('connect', resolve);
    s.once('connect_error', reject);
  });
  const secret = secrets.get(name);
  const reg = (await s
    .timeout(5_000)
    .emitWithAck('register', { name, concurrency: 16, ...(secret ? { secret } : {}) })) as {
    ok: boolean;
    data?: { features?: string[]; hostSecret?: string };
  };
  if (!reg.ok || !reg.data?.features?.includes('result-report'))
    throw new Error(`register: ${JSON.stringify(reg)}`);
  if (reg.data.hostSecret) secrets.set(name, reg.data.hostSecret);
  s.on('job:run', (job: { code: string; attempt: number }, ack: (r: unknown) => void) =>
    ack({
      accepted: true,
      report: {
        attempt: job.attempt,
        status: 'succeeded',
        result: 1,
        output: [{ stream: 'stdout', text: `ran: ${job.code}\n` }],
      },
    }),
  );
  return s;
}

async function hosts(server: BenchServer, n: number): Promise<Socket[]> {
  if (server.kind === 'hub')
    return Promise.all(Array.from({ length: n }, (_, i) => hubHost(server.url, `bench-${i}`)));
  return Promise.all(
    Array.from({ length: n }, async () => {
      const s = await sio(server.url);
      s.on('job:run', (job: { taskId: string; code: string }, ack: (r: unknown) => void) =>
        ack({
          task_id: job.taskId,
          status: 'succeeded',
          stdout: `ran: ${job.code}\n`,
          stderr: '',
          result: 1,
        }),
      );
      return s;
    }),
  );
}

const closeAll = (hs: Socket[]) => {
  for (const h of hs) h.close();
};

/**
 * Every call sends code no call sent before, in this run and the last ones (the hub keeps policy verdicts by
 * code hash, so code sent again would skip the check): the figures are for code the hub has not seen.
 */
const runId = `${process.pid.toString(36)}${Date.now().toString(36)}`;
let sent = 0;

async function execute(url: string): Promise<void> {
  const code = `print(${sent++}, '${runId}')`;
  const res = await postJson<{ status: string }>(url, TOKENS.operator, '/execute', { code });
  if (res.status !== 'succeeded') throw new Error(`execute: ${JSON.stringify(res)}`);
}

/** ms of server CPU per sequential `/execute`. */
export async function dispatchSequential(server: BenchServer, tasks: number): Promise<number> {
  const hs = await hosts(server, 1);
  for (let i = 0; i < 20; i++) await execute(server.url); // warm-up: JIT, connection pool
  const cpu = await cpuAcross(server.cpuMs, async () => {
    for (let i = 0; i < tasks; i++) await execute(server.url);
  });
  closeAll(hs);
  await sleep(100);
  return cpu / tasks;
}

/** 8 submitters, 4 hosts: tasks per second and the p99 round trip in ms. */
export async function dispatchConcurrent(
  server: BenchServer,
  tasks: number,
): Promise<{ perSecond: number; p99: number; p50: number }> {
  const hs = await hosts(server, 4);
  for (let i = 0; i < 40; i++) await execute(server.url);
  const latencies: number[] = [];
  const start = performance.now();
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let i = 0; i < tasks / 8; i++) {
        const t0 = performance.now();
        await execute(server.url);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const wall = (performance.now() - start) / 1000;
  closeAll(hs);
  await sleep(100);
  const sorted = latencies.sort((a, b) => a - b);
  return {
    perSecond: latencies.length / wall,
    p99: sorted[Math.floor(sorted.length * 0.99)] ?? 0,
    p50: median(sorted),
  };
}

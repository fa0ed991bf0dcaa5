/**
 * Dispatch: `/execute` round trips through a host, against bare Fastify + Socket.IO `emitWithAck` (the host
 * answers the job in its ack). The hub's host speaks the real protocol: ack, started, output, result.
 */
import type { Socket } from 'socket.io-client';
import { type ScriptedExtension, scriptedExtension } from '../helpers/scripted-extension.js';
import { cpuAcross, postJson, sio, sleep, TOKENS } from './load.js';
import type { BenchServer } from './proc.js';
import { median } from './stats.js';

async function hosts(server: BenchServer, n: number): Promise<Array<ScriptedExtension | Socket>> {
  if (server.kind === 'hub') {
    return Promise.all(
      Array.from({ length: n }, (_, i) =>
        scriptedExtension(
          server.url,
          TOKENS.extension,
          { name: `bench-${i}`, concurrency: 16 },
          async (api) => {
            await api.started();
            await api.output(`ran: ${api.job.code}\n`);
            await api.result({ status: 'succeeded', result: 1 });
          },
        ),
      ),
    );
  }
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

const closeAll = (hs: Array<ScriptedExtension | Socket>) => {
  for (const h of hs) h.close();
};

async function execute(url: string, i: number): Promise<void> {
  const res = await postJson<{ status: string }>(url, TOKENS.operator, '/execute', { code: `print(${i})` });
  if (res.status !== 'succeeded') throw new Error(`execute: ${JSON.stringify(res)}`);
}

/** ms of server CPU per sequential `/execute`. */
export async function dispatchSequential(server: BenchServer, tasks: number): Promise<number> {
  const hs = await hosts(server, 1);
  for (let i = 0; i < 20; i++) await execute(server.url, i); // warm-up: JIT, connection pool
  const cpu = await cpuAcross(server.cpuMs, async () => {
    for (let i = 0; i < tasks; i++) await execute(server.url, i);
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
  for (let i = 0; i < 40; i++) await execute(server.url, i);
  const latencies: number[] = [];
  const start = performance.now();
  await Promise.all(
    Array.from({ length: 8 }, async (_, s) => {
      for (let i = 0; i < tasks / 8; i++) {
        const t0 = performance.now();
        await execute(server.url, s * 100_000 + i);
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

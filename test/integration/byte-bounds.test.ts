import type { Socket as NetSocket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import type { Task, TaskEvent } from '../../server/protocol/index.js';
import { call, eventsUntilEnd, http, monitorClient, until } from '../helpers/clients.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { scriptedExtension } from '../helpers/scripted-extension.js';
import { WsClient } from '../helpers/ws-client.js';

let hub: TestHub;
afterEach(() => hub?.close());

// 1 MB output chunks: far below the 10,000-packet limit, far above the 8 MB byte budget.
const CHUNK = 'x'.repeat(1_000_000);
const CHUNKS = 120;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
/** Heap and buffers still reachable: what the hub holds, not garbage it has yet to collect. */
const retainedMb = () => {
  gc();
  const m = process.memoryUsage();
  return (m.heapUsed + m.external) / 2 ** 20;
};

/** Starts a hub whose host streams CHUNKS 1 MB chunks once `go()` is called; samples the hub's RSS. */
async function firehose() {
  hub = await startTestHub();
  let go: () => void = () => {};
  const gate = new Promise<void>((r) => {
    go = r;
  });
  const ext = await scriptedExtension(hub.url, hub.tokens.extension, { name: 'firehose' }, async (api) => {
    await api.started();
    await gate;
    for (let i = 0; i < CHUNKS; i++) await api.output(`${i}:${CHUNK}\n`);
    await api.result({ status: 'succeeded', result: 'done' });
  });
  const task = (await http<Task>(hub.url, hub.tokens.operator, 'POST', '/api/v1/tasks', { code: 'flood' }))
    .body;
  const retainedBefore = retainedMb();
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  const finished = async () => {
    await until(
      async () =>
        (await http<Task>(hub.url, hub.tokens.viewer, 'GET', `/api/v1/tasks/${task.id}`)).body.status ===
        'succeeded',
      90_000,
    );
    clearInterval(sampler);
    return { rssPeakMb: (peak - baseline) / 2 ** 20, retainedMb: retainedMb() - retainedBefore };
  };
  return { task, go, finished, close: () => ext.close() };
}

describe('consumers bounded in bytes', () => {
  it('drops a paused Socket.IO reader of 1 MB chunks at 8 MB, keeps the hub small, and it resumes by seq', async () => {
    const run = await firehose();
    const slow = await monitorClient(hub.url, hub.tokens.viewer);
    const seen: TaskEvent[] = [];
    const errors: string[] = [];
    let reason = '';
    slow.on('task:event', (e) => seen.push(e));
    slow.on('hub:error', (e) => errors.push(e.message));
    slow.on('disconnect', (r) => {
      reason = r;
    });
    await call(slow, 'task:subscribe', { taskId: run.task.id });
    const wire = (slow.io.engine.transport as unknown as { ws: { _socket: NetSocket } }).ws._socket;
    wire.pause();
    run.go();

    const grew = await run.finished();
    // Without the byte budget the hub holds every chunk for the paused reader (120 MB, more at the peak);
    // with it, the budget (8 MB) and what is in flight.
    expect(grew.retainedMb).toBeLessThan(40);
    expect(grew.rssPeakMb).toBeLessThan(150);
    wire.resume();
    await until(() => reason !== '', 20_000, 'the slow socket to be dropped');
    expect(reason).toBe('io server disconnect');
    expect(errors.join(' ')).toMatch(/send queue over 8388608 bytes: reading too slowly/);

    // Resume from the last seq it saw: the backlog comes back in pages, nothing lost, nothing twice.
    const lastSeq = seen.at(-1)?.seq ?? 0;
    const again = await monitorClient(hub.url, hub.tokens.viewer);
    const rest = eventsUntilEnd(again, run.task.id, 90_000);
    await call(again, 'task:subscribe', { taskId: run.task.id, afterSeq: lastSeq });
    const all = [...seen, ...(await rest)];
    expect(all.map((e) => e.seq)).toEqual(all.map((_, i) => i + 1));
    expect(all.filter((e) => e.type === 'output')).toHaveLength(CHUNKS);
    again.close();
    run.close();
  }, 180_000);

  it('drops a paused raw ws reader the same way, and it resumes by seq losing nothing', async () => {
    const run = await firehose();
    const slow = await WsClient.open(hub.url, '/ws/monitor', hub.tokens.viewer);
    let closed: { code: number; reason: string } | null = null;
    slow.ws.on('close', (code, why) => {
      closed = { code, reason: why.toString() };
    });
    const ack = await slow.request('task:subscribe', { taskId: run.task.id });
    expect(ack.ok).toBe(true);
    const wire = (slow.ws as unknown as { _socket: NetSocket })._socket;
    wire.pause();
    run.go();

    const grew = await run.finished();
    expect(grew.retainedMb).toBeLessThan(40);
    expect(grew.rssPeakMb).toBeLessThan(150);
    wire.resume();
    await until(() => closed !== null, 20_000, 'the slow ws to be dropped');
    const seen = slow.frames
      .filter((f) => f.type === 'event' && f.event === 'task:event')
      .map((f) => (f as { data: TaskEvent }).data);
    const lastSeq = seen.at(-1)?.seq ?? 0;
    expect(lastSeq).toBeLessThan(CHUNKS);

    const again = await WsClient.open(hub.url, '/ws/monitor', hub.tokens.viewer);
    await again.request('task:subscribe', { taskId: run.task.id, afterSeq: lastSeq });
    await until(
      () =>
        again.frames.some((f) => {
          const e = f.type === 'event' ? (f.data as TaskEvent) : null;
          return e?.type === 'status' && e.data.status === 'succeeded';
        }),
      90_000,
      'the replay to reach the end',
    );
    const rest = again.frames
      .filter((f) => f.type === 'event' && f.event === 'task:event')
      .map((f) => (f as { data: TaskEvent }).data);
    const all = [...seen, ...rest];
    expect(all.map((e) => e.seq)).toEqual(all.map((_, i) => i + 1));
    expect(all.filter((e) => e.type === 'output')).toHaveLength(CHUNKS);
    again.ws.close();
    run.close();
  }, 180_000);
});

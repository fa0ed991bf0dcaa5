import type { Socket as NetSocket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Task, TaskEvent } from '../../server/protocol/index.js';
import { call, eventsUntilEnd, http, monitorClient, until } from '../helpers/clients.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { scriptedExtension } from '../helpers/scripted-extension.js';

let hub: TestHub;
afterEach(() => hub?.close());

const CHUNK = 'x'.repeat(64 * 1024);

describe('a slow consumer', () => {
  it('is dropped past its send queue, others are not, and it resumes by seq with nothing lost', async () => {
    hub = await startTestHub({ subscriberQueueLimit: 20 });
    const ext = await scriptedExtension(hub.url, hub.tokens.extension, { name: 'firehose' }, async (api) => {
      await api.started();
      for (let i = 0; i < 300; i++) await api.output(`${i}:${CHUNK}\n`);
      await api.result({ status: 'succeeded', result: 'done' });
    });
    const task = (await http<Task>(hub.url, hub.tokens.operator, 'POST', '/api/v1/tasks', { code: 'flood' }))
      .body;

    const fast = await monitorClient(hub.url, hub.tokens.viewer);
    const fastEvents = eventsUntilEnd(fast, task.id, 60_000);
    await call(fast, 'task:subscribe', { taskId: task.id });

    const slow = await monitorClient(hub.url, hub.tokens.viewer);
    const seen: TaskEvent[] = [];
    const errors: string[] = [];
    slow.on('task:event', (e) => seen.push(e));
    slow.on('hub:error', (e) => errors.push(e.message));
    let reason = '';
    slow.on('disconnect', (r) => {
      reason = r;
    });
    await call(slow, 'task:subscribe', { taskId: task.id });
    // Stop reading from the wire: the hub's send queue for this socket grows.
    const wire = (slow.io.engine.transport as unknown as { ws: { _socket: NetSocket } }).ws._socket;
    wire.pause();

    const all = await fastEvents;
    expect(all.at(-1)?.type).toBe('status');
    await new Promise((r) => setTimeout(r, 1_500));
    wire.resume();
    await until(() => reason !== '', 10_000, 'the slow socket to be dropped');
    expect(reason).toBe('io server disconnect');
    expect(errors.join(' ')).toMatch(/reading too slowly/);

    const again = await monitorClient(hub.url, hub.tokens.viewer);
    const lastSeq = seen.at(-1)?.seq ?? 0;
    expect(lastSeq).toBeLessThan(all.length);
    const rest = eventsUntilEnd(again, task.id, 30_000);
    await call(again, 'task:subscribe', { taskId: task.id, afterSeq: lastSeq });
    const resumed = [...seen, ...(await rest)];
    expect(resumed.map((e) => e.seq)).toEqual(all.map((e) => e.seq));
    fast.close();
    again.close();
    ext.close();
  }, 90_000);
});

import { describe, expect, it } from 'vitest';
import { createLogger } from '../../server/log.js';
import type { TaskEvent } from '../../server/protocol/index.js';
import { MemoryTaskStore } from '../../server/tasks/memory-store.js';
import { type EventRef, RemoteTasks } from '../../server/tasks/remote-tasks.js';

const ev = (seq: number, taskId = 't1', text = `line ${seq}\n`): TaskEvent => ({
  taskId,
  seq,
  ts: new Date(0).toISOString(),
  type: 'output',
  data: { stream: 'stdout', text },
});
/** What the change stream carries instead of a large event (redis-scripts.ts). */
const ref = (seq: number, taskId = 't1'): EventRef => ({ taskId, seq, ref: true });

/** RemoteTasks on a real in-memory store: what another process committed is there before it is announced. */
function remote() {
  const store = new MemoryTaskStore();
  const told: TaskEvent[] = [];
  const reads: Array<{ afterSeq: number; limit: number; got: number[] }> = [];
  const tasks = new RemoteTasks(
    {
      caughtUp: async () => {},
      read: async (taskId, afterSeq, limit, maxBytes) => {
        const got = store.readEvents(taskId, afterSeq, limit, maxBytes);
        reads.push({ afterSeq, limit, got: got.map((e) => e.seq) });
        return got;
      },
    },
    (e) => told.push(e),
    createLogger('silent'),
  );
  return { store, told, reads, tasks };
}

describe('RemoteTasks (events of tasks other hub processes run)', () => {
  it('tells each seq once, in order, dropping what was told already', async () => {
    const { told, tasks } = remote();
    await tasks.take([ev(1), ev(2)]);
    await tasks.take([ev(2), ev(3)]);
    expect(told.map((e) => e.seq)).toEqual([1, 2, 3]);
  });

  it('fills a gap the change stream left from the store, before the event after it', async () => {
    const { store, told, tasks } = remote();
    store.appendEvents([1, 2, 3, 4, 5].map((n) => ev(n)));
    await tasks.take([ev(1), ev(2)]);
    await tasks.take([ev(5)]);
    expect(told.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it('catchUp hands over exactly what was told after a replay, or null when it no longer holds it all', async () => {
    const { told, tasks } = remote();
    // A subscriber's store read ended at 7 for a task this process had heard nothing of.
    expect(tasks.catchUp('t1', 7)).toBeNull();
    await tasks.settle('t1', 7);
    expect(tasks.catchUp('t1', 7)).toEqual([]);
    // What the stream brings up to 7 was in the read: not told again.
    await tasks.take([ev(6), ev(7), ev(8), ev(9)]);
    expect(told.map((e) => e.seq)).toEqual([8, 9]);
    expect(tasks.catchUp('t1', 7)?.map((e) => e.seq)).toEqual([8, 9]);
    expect(tasks.catchUp('t1', 9)).toEqual([]);
    // Events before the tail were never told here: that subscriber reads another page.
    expect(tasks.catchUp('t1', 3)).toBeNull();
  });

  it('a read behind what was told keeps the told seq and catches up from the tail', async () => {
    const { tasks } = remote();
    await tasks.take([1, 2, 3, 4, 5].map((n) => ev(n)));
    await tasks.settle('t1', 3);
    expect(tasks.catchUp('t1', 3)?.map((e) => e.seq)).toEqual([4, 5]);
  });

  it('fills events carried by reference from the store, in order among the inline ones', async () => {
    const { store, told, reads, tasks } = remote();
    store.appendEvents([1, 2, 3, 4, 5].map((n) => ev(n)));
    await tasks.take([ev(1), ref(2), ref(3), ev(4)]);
    await tasks.take([ref(3), ref(5)]);
    expect(told.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    // The stored body itself, not the reference.
    expect(told[1]).toEqual(ev(2));
    // Each reference reads just its own event; the repeated one is not read again.
    expect(reads).toEqual([
      { afterSeq: 1, limit: 1, got: [2] },
      { afterSeq: 2, limit: 1, got: [3] },
      { afterSeq: 4, limit: 1, got: [5] },
    ]);
  });

  it('a reference to a task not heard of before reads that event only', async () => {
    const { store, told, tasks } = remote();
    store.appendEvents([1, 2, 3].map((n) => ev(n)));
    await tasks.take([ref(3)]);
    expect(told.map((e) => e.seq)).toEqual([3]);
  });

  it('fills a gap of large events a page of about 1 MB at a time', async () => {
    const { store, told, reads, tasks } = remote();
    const big = 'x'.repeat(600_000);
    store.appendEvents([1, 2, 3, 4, 5, 6, 7].map((n) => ev(n, 't1', n === 1 ? 'a' : big)));
    await tasks.take([ev(1)]);
    await tasks.take([ref(6), ev(7)]);
    expect(told.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(reads.map((r) => r.got)).toEqual([[2, 3], [4, 5], [6]]);
  });

  it('a reference the store no longer holds tells nothing; the next event is still told', async () => {
    const { store, told, tasks } = remote();
    store.appendEvents([ev(1)]);
    await tasks.take([ev(1), ref(2)]);
    await tasks.take([ev(3)]);
    expect(told.map((e) => e.seq)).toEqual([1, 3]);
  });
});

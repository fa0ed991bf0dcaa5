import { describe, expect, it } from 'vitest';
import type { Connection } from '../../client/monitor/src/net/connection.js';
import type { Task, TaskEvent, TaskSummary } from '../../client/monitor/src/protocol.js';
import { Emitter } from '../../client/monitor/src/state/emitter.js';
import { TaskFollower } from '../../client/monitor/src/state/task-follower.js';
import { TaskStore } from '../../client/monitor/src/state/task-store.js';
import { tokenizePython } from '../../client/monitor/src/ui/python-highlight.js';

/** The monitor's logic that needs no page: the highlighter, the follower's seq bookkeeping, the task store. */
describe('monitor logic', () => {
  it('highlights Python without changing a character', () => {
    const src = [
      '@omni.decorate("x")',
      'async def run(self, n=0x1F, *args):',
      '    """doc "quoted"',
      '    lines"""',
      "    s = f'{n!r}' + rb'\\x00'  # note",
      '    return await len([1.5e3, 2j, None, True])',
      'x = "unterminated',
    ].join('\n');
    const tokens = tokenizePython(src);
    expect(tokens.map((t) => t.text).join('')).toBe(src);
    const kinds = (kind: string) => tokens.filter((t) => t.kind === kind).map((t) => t.text);
    expect(kinds('deco')).toEqual(['@omni.decorate']);
    expect(kinds('kw')).toEqual(['async', 'def', 'return', 'await']);
    expect(kinds('def')).toEqual(['run']);
    expect(kinds('self')).toEqual(['self']);
    expect(kinds('num')).toEqual(['0x1F', '1.5e3', '2j']);
    expect(kinds('const')).toEqual(['None', 'True']);
    expect(kinds('builtin')).toEqual(['len']);
    expect(kinds('com')).toEqual(['# note']);
    expect(kinds('str')).toEqual([
      '"x"',
      '"""doc "quoted"\n    lines"""',
      "f'{n!r}'",
      "rb'\\x00'",
      '"unterminated',
    ]);
  });

  it('follows a task by seq: drops what it has, re-subscribes past a gap and after every reconnect', async () => {
    const listeners = new Set<(e: TaskEvent) => void>();
    const asked: { event: string; payload: unknown }[] = [];
    const connected = new Emitter<{ first: boolean }>();
    const conn = {
      socket: {
        connected: true,
        on: (_: string, fn: (e: TaskEvent) => void) => listeners.add(fn),
        off: (_: string, fn: (e: TaskEvent) => void) => listeners.delete(fn),
      },
      connected,
      request: async (event: string, payload: unknown) => {
        asked.push({ event, payload });
        return { ok: true, data: { id: 't1', lastSeq: 0 } as Task };
      },
    } as unknown as Connection;
    const seen: number[] = [];
    const follower = new TaskFollower(conn, 't1', {
      onTask: () => {},
      onEvent: (e) => seen.push(e.seq),
      onError: () => {},
    });
    const send = (seq: number, taskId = 't1') => {
      for (const fn of listeners)
        fn({ taskId, seq, ts: '', type: 'log', data: { level: 'info', message: '' } });
    };
    await Promise.resolve();
    for (const seq of [1, 2, 2, 1, 3]) send(seq);
    send(1, 'other');
    expect(seen).toEqual([1, 2, 3]);
    send(5); // 4 went missing: ask again from 3, and do not show 5 out of order
    expect(seen).toEqual([1, 2, 3]);
    connected.emit({ first: false });
    await Promise.resolve();
    for (const seq of [4, 5, 6]) send(seq);
    expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
    expect(asked.filter((a) => a.event === 'task:subscribe').map((a) => a.payload)).toEqual([
      { taskId: 't1', afterSeq: 0 },
      { taskId: 't1', afterSeq: 3 },
      { taskId: 't1', afterSeq: 3 },
    ]);
    follower.stop();
    send(7);
    expect(seen).toHaveLength(6);
    expect(asked.at(-1)).toEqual({ event: 'task:unsubscribe', payload: { taskId: 't1' } });
  });

  it('keeps the newest summary of each task, newest task first', () => {
    const store = new TaskStore();
    const summary = (id: string, createdAt: string, lastSeq: number, status: TaskSummary['status']) =>
      ({
        id,
        createdAt,
        lastSeq,
        status,
        kind: 'code',
        target: {},
        parentId: null,
      }) as unknown as TaskSummary;
    store.upsertMany([
      summary('a', '2024-01-01T00:00:01Z', 3, 'running'),
      summary('b', '2024-01-01T00:00:02Z', 1, 'queued'),
    ]);
    store.upsert(summary('a', '2024-01-01T00:00:01Z', 1, 'queued')); // a stale page of task:list
    expect(store.get('a')?.status).toBe('running');
    store.upsert(summary('a', '2024-01-01T00:00:01Z', 5, 'succeeded'));
    expect(store.all().map((t) => `${t.id}:${t.status}`)).toEqual(['b:queued', 'a:succeeded']);
    expect(store.counts()).toMatchObject({ queued: 1, succeeded: 1, running: 0 });
  });
});

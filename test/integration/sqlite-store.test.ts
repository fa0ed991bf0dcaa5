import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { Task, TaskEvent } from '../../server/protocol/index.js';
import { SqliteTaskStore } from '../../server/tasks/sqlite-store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'sb-store-'));
  dirs.push(d);
  return d;
};

const task = (id: string, code: string): Task => ({
  id,
  kind: 'code',
  status: 'queued',
  target: {},
  parentId: null,
  traceId: 'trace',
  attempts: 0,
  maxAttempts: 1,
  timeoutMs: 1000,
  extensionId: null,
  input: { code },
  result: null,
  error: null,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  startedAt: null,
  endedAt: null,
  lastSeq: 0,
});
const event = (taskId: string, seq: number): TaskEvent => ({
  taskId,
  seq,
  ts: '2026-01-01T00:00:00.000Z',
  type: 'output',
  data: { stream: 'stdout', text: `line ${seq}\n` },
});

describe('the SQLite store', () => {
  it('commits new rows, events and changed rows in one batch; an update keeps the input as written', () => {
    const dir = tempDir();
    const store = new SqliteTaskStore(dir);
    const t = task('t_1', 'print(1)');
    store.commit({ inserts: [t], events: [event('t_1', 1), event('t_1', 2)], updates: [] });
    store.commit({
      inserts: [],
      events: [event('t_1', 3)],
      updates: [{ ...t, status: 'succeeded', lastSeq: 3, result: 42 }],
    });
    store.close();

    const again = new SqliteTaskStore(dir);
    const back = again.getTask('t_1');
    expect(back?.status).toBe('succeeded');
    expect(back?.result).toBe(42);
    expect(back?.input).toEqual({ code: 'print(1)' });
    expect(again.readEvents('t_1', 0).map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(again.listTasks({ limit: 10, status: 'succeeded' }).map((x) => x.id)).toEqual(['t_1']);
    again.close();
  });

  it('gives an unfinished task the lastSeq of its stored events (rows are rewritten on status changes only)', () => {
    const store = new SqliteTaskStore(tempDir());
    store.commit({
      inserts: [task('t_run', 'x')],
      events: [1, 2, 3].map((n) => event('t_run', n)),
      updates: [],
    });
    expect(store.tasksWithStatus(['queued']).map((t) => t.lastSeq)).toEqual([3]);
    expect(store.getTask('t_run')?.lastSeq).toBe(3);
    store.close();
  });

  it('reads a database written before input had its own column', () => {
    const dir = tempDir();
    const old = new Database(join(dir, 'switchboard.db'));
    old.exec(`CREATE TABLE tasks (id TEXT PRIMARY KEY, kind TEXT NOT NULL, status TEXT NOT NULL,
      extension_id TEXT, parent_id TEXT, created_at TEXT NOT NULL, body TEXT NOT NULL)`);
    const t = task('t_old', 'print("old")');
    old
      .prepare('INSERT INTO tasks VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(t.id, t.kind, t.status, null, null, t.createdAt, JSON.stringify(t));
    old.close();

    const store = new SqliteTaskStore(dir);
    expect(store.getTask('t_old')?.input).toEqual({ code: 'print("old")' });
    store.updateTask({ ...t, status: 'failed' });
    expect(store.getTask('t_old')).toMatchObject({ status: 'failed', input: { code: 'print("old")' } });
    store.close();
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../server/log.js';
import type { Task, TaskEvent } from '../../server/protocol/index.js';
import { TaskService } from '../../server/tasks/service.js';
import { SqliteTaskStore } from '../../server/tasks/sqlite-store.js';
import { call, http, monitorClient, until } from '../helpers/clients.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { scriptedExtension } from '../helpers/scripted-extension.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});
const tick = () => new Promise((r) => setImmediate(r));

describe('group commit', () => {
  it('writes every task and event one tick touched in one transaction, and holds broadcasts until then', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-group-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const store = new SqliteTaskStore(dir);
    let commits = 0;
    const commit = store.commit.bind(store);
    store.commit = (batch) => {
      commits += 1;
      commit(batch);
    };
    const tasks = new TaskService(store, createLogger('silent'));
    cleanups.push(() => tasks.close());
    const heard: TaskEvent[] = [];
    tasks.onEvent((e) => heard.push(e));

    const ids: string[] = [];
    for (let i = 0; i < 50; i++) {
      const t = tasks.create({ kind: 'code', input: { code: `x${i}` }, timeoutMs: 1000, maxAttempts: 1 });
      tasks.transition(t.id, 'running', 'started');
      tasks.append(t.id, 'output', { stream: 'stdout', text: `out ${i}\n` });
      ids.push(t.id);
    }
    // Nothing told yet: the status changes are not on disk.
    expect(heard).toEqual([]);
    expect(commits).toBe(0);
    // A read in the same tick sees the new state, not the stale row.
    expect(tasks.live(ids[0] ?? '')?.status).toBe('running');
    await tick();
    expect(commits).toBe(1);
    expect(heard).toHaveLength(150);
    // In seq order per task.
    expect(heard.filter((e) => e.taskId === ids[7]).map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(store.listTasks({ limit: 100, status: 'running' })).toHaveLength(50);
    expect(store.readEvents(ids[49] ?? '', 0).map((e) => e.type)).toEqual(['status', 'status', 'output']);
  });

  it('tells nobody a status before it is on disk: events, acks and replies all find it in the database', async () => {
    const hub: TestHub = await startTestHub();
    cleanups.push(() => hub.close());
    const db = new Database(join(hub.dataDir, 'switchboard.db'), { readonly: true });
    cleanups.push(() => db.close());
    const onDisk = (taskId: string) => ({
      status: (
        db.prepare('SELECT status FROM tasks WHERE id = ?').get(taskId) as { status: string } | undefined
      )?.status,
      seqs: (
        db.prepare('SELECT seq FROM events WHERE task_id = ?').all(taskId) as Array<{ seq: number }>
      ).map((r) => r.seq),
    });

    const resultAcks: Array<ReturnType<typeof onDisk>> = [];
    let taskId = '';
    const ext = await scriptedExtension(hub.url, hub.tokens.extension, { name: 'kit' }, async (api) => {
      await api.started();
      await api.output('hello\n');
      await api.result({ status: 'succeeded', result: 1 });
      // The result's ack has come back: the host may forget the job now, so it must be on disk.
      resultAcks.push(onDisk(api.job.taskId));
    });
    cleanups.push(() => ext.close());
    const watcher = await monitorClient(hub.url, hub.tokens.viewer);
    cleanups.push(() => watcher.close());
    const seenOnDisk: Array<{ seq: number; status: string; disk: ReturnType<typeof onDisk> }> = [];
    const ended = new Promise<void>((resolve) => {
      watcher.on('task:event', (e) => {
        if (e.type !== 'status') return;
        seenOnDisk.push({ seq: e.seq, status: e.data.status, disk: onDisk(e.taskId) });
        if (e.data.status === 'succeeded') resolve();
      });
    });
    await call(watcher, 'feed:subscribe', {});
    watcher.on('task:summary', (s) => {
      if (!taskId) {
        taskId = s.id;
        void call(watcher, 'task:subscribe', { taskId: s.id });
      }
    });

    const res = await http<Task>(hub.url, hub.tokens.operator, 'POST', '/api/v1/tasks', { code: 'print(1)' });
    expect(onDisk(res.body.id).status).toBeDefined();
    expect(onDisk(res.body.id).seqs).toContain(1);
    await ended;
    for (const s of seenOnDisk) expect(s.disk.seqs).toContain(s.seq);
    expect(seenOnDisk.at(-1)?.disk.status).toBe('succeeded');
    await until(() => resultAcks.length === 1);
    expect(resultAcks[0]?.status).toBe('succeeded');
  });
});

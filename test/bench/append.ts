/**
 * Event append across many tasks, run in a process of its own (pinned by the runner): the task service with
 * its SQLite store, against bare better-sqlite3 inserting the same rows in the same batches. Each batch is
 * what one busy tick brings; the hub commits it per tick. Prints `{hub, base}` in µs of CPU per event.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createLogger } from '../../server/log.js';
import { TaskService } from '../../server/tasks/service.js';
import { SqliteTaskStore } from '../../server/tasks/sqlite-store.js';

const [tasksArg, eventsArg, batchArg] = process.argv.slice(2);
const TASKS = Number(tasksArg ?? 10_000);
const EVENTS = Number(eventsArg ?? 100_000);
const BATCH = Number(batchArg ?? 500);
const text = (i: number) => `line ${i} ${'x'.repeat(60)}\n`;
const tick = () => new Promise((r) => setImmediate(r));

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

async function hub(dir: string): Promise<number> {
  const tasks = new TaskService(new SqliteTaskStore(dir), createLogger('silent'));
  const ids: string[] = [];
  for (let i = 0; i < TASKS; i++)
    ids.push(tasks.create({ kind: 'code', input: { code: 'x' }, timeoutMs: 60_000, maxAttempts: 1 }).id);
  await tick();
  const t0 = cpuUs();
  for (let i = 0; i < EVENTS; i++) {
    tasks.append(ids[i % TASKS] ?? '', 'output', { stream: 'stdout', text: text(i) });
    if (i % BATCH === BATCH - 1) await tick();
  }
  await tick();
  const us = cpuUs() - t0;
  tasks.close();
  return us / EVENTS;
}

async function bare(dir: string): Promise<number> {
  const db = new Database(join(dir, 'bare.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(
    'CREATE TABLE events (task_id TEXT NOT NULL, seq INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (task_id, seq)) WITHOUT ROWID',
  );
  const insert = db.prepare('INSERT INTO events (task_id, seq, body) VALUES (?, ?, ?)');
  const ids = Array.from({ length: TASKS }, (_, i) => `t_${String(i).padStart(20, '0')}`);
  const seqs = new Map<string, number>();
  const write = db.transaction((rows: Array<{ taskId: string; seq: number }>) => {
    for (const e of rows) insert.run(e.taskId, e.seq, JSON.stringify(e));
  });
  const t0 = cpuUs();
  let batch: Array<{ taskId: string; seq: number; ts: string; type: string; data: unknown }> = [];
  for (let i = 0; i < EVENTS; i++) {
    const taskId = ids[i % TASKS] ?? '';
    const seq = (seqs.get(taskId) ?? 1) + 1;
    seqs.set(taskId, seq);
    batch.push({
      taskId,
      seq,
      ts: new Date().toISOString(),
      type: 'output',
      data: { stream: 'stdout', text: text(i) },
    });
    if (batch.length === BATCH) {
      write(batch);
      batch = [];
      await tick();
    }
  }
  if (batch.length) write(batch);
  const us = cpuUs() - t0;
  db.close();
  return us / EVENTS;
}

const dir = mkdtempSync(join(tmpdir(), 'sb-append-'));
try {
  const base = await bare(dir);
  const h = await hub(dir);
  process.stdout.write(`${JSON.stringify({ hub: h, base })}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

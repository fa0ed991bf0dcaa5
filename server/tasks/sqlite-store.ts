import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Task, TaskEvent, TaskStatus } from '../protocol/tasks.js';
import type { CommitBatch, TaskFilter, TaskStore } from './store.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS tasks (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  status TEXT NOT NULL,
  extension_id TEXT,
  parent_id TEXT,
  created_at TEXT NOT NULL,
  body TEXT NOT NULL,
  input TEXT
);
CREATE INDEX IF NOT EXISTS tasks_created ON tasks (created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS tasks_status ON tasks (status);
CREATE TABLE IF NOT EXISTS events (
  task_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (task_id, seq)
) WITHOUT ROWID;
`;

type Row = { body: string; input: string | null; maxSeq?: number | null };

/**
 * SQLite in WAL mode with synchronous=NORMAL: a commit is in the WAL before the call returns, so it survives
 * the process dying (kill -9); only a power cut or OS crash can lose the last commits since the WAL was synced.
 * A task row keeps its input (the code, up to the policy's size limit) in its own column, written once; the
 * changing fields live in `body`, small JSON rewritten with the status columns lists filter on.
 */
export class SqliteTaskStore implements TaskStore {
  private readonly db: Database.Database;
  private readonly stmts;

  constructor(dataDir: string, file = 'switchboard.db') {
    mkdirSync(dataDir, { recursive: true });
    this.db = new Database(join(dataDir, file));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(SCHEMA);
    // Databases from before `input` had its own column: move each row's input there once.
    const cols = this.db.prepare("SELECT name FROM pragma_table_info('tasks')").all() as Array<{
      name: string;
    }>;
    if (!cols.some((c) => c.name === 'input'))
      this.db.exec(`BEGIN; ALTER TABLE tasks ADD COLUMN input TEXT;
        UPDATE tasks SET input = json_extract(body, '$.input'), body = json_remove(body, '$.input'); COMMIT;`);
    this.stmts = {
      insert: this.db.prepare(
        'INSERT INTO tasks (id, kind, status, extension_id, parent_id, created_at, body, input) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      update: this.db.prepare('UPDATE tasks SET status = ?, extension_id = ?, body = ? WHERE id = ?'),
      get: this.db.prepare(
        'SELECT body, input, (SELECT MAX(seq) FROM events WHERE task_id = tasks.id) AS maxSeq FROM tasks WHERE id = ?',
      ),
      appendEvent: this.db.prepare('INSERT OR IGNORE INTO events (task_id, seq, body) VALUES (?, ?, ?)'),
      readEvents: this.db.prepare(
        'SELECT body FROM events WHERE task_id = ? AND seq > ? ORDER BY seq LIMIT ?',
      ),
      counts: this.db.prepare('SELECT status, COUNT(*) AS n FROM tasks GROUP BY status'),
    };
  }

  private readonly tx = (batch: CommitBatch) => {
    for (const t of batch.inserts) this.insertTask(t);
    for (const e of batch.events) this.stmts.appendEvent.run(e.taskId, e.seq, JSON.stringify(e));
    for (const t of batch.updates) this.updateTask(t);
  };
  private commitTx: ((batch: CommitBatch) => void) | undefined;

  commit(batch: CommitBatch): void {
    if (!batch.inserts.length && !batch.events.length && !batch.updates.length) return;
    this.commitTx ??= this.db.transaction(this.tx);
    this.commitTx(batch);
  }

  insertTask(task: Task): void {
    this.stmts.insert.run(
      task.id,
      task.kind,
      task.status,
      task.extensionId,
      task.parentId,
      task.createdAt,
      mutableJson(task),
      JSON.stringify(task.input),
    );
  }

  /** Rewrites the status columns and the small mutable JSON; the input column is left as written. */
  updateTask(task: Task): void {
    this.stmts.update.run(task.status, task.extensionId, mutableJson(task), task.id);
  }

  getTask(id: string): Task | null {
    const r = this.stmts.get.get(id) as Row | undefined;
    return r ? fromRow(r) : null;
  }

  getTaskSync(id: string): Task | null {
    return this.getTask(id);
  }

  listTasks(f: TaskFilter): Task[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (f.status) where.push('status = ?') && params.push(f.status);
    if (f.kind) where.push('kind = ?') && params.push(f.kind);
    if (f.extensionId) where.push('extension_id = ?') && params.push(f.extensionId);
    if (f.parentId) where.push('parent_id = ?') && params.push(f.parentId);
    if (f.before) {
      where.push('(created_at < ? OR (created_at = ? AND id < ?))');
      params.push(f.before.createdAt, f.before.createdAt, f.before.id);
    }
    const sql = `SELECT body, input FROM tasks ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT ?`;
    const rows = this.db.prepare(sql).all(...params, f.limit) as Row[];
    return rows.map(fromRow);
  }

  tasksWithStatus(statuses: readonly TaskStatus[]): Task[] {
    if (statuses.length === 0) return [];
    // lastSeq from the events themselves: a row is rewritten on status changes only, so after a crash the
    // events of an unfinished task can be ahead of it.
    const sql = `SELECT body, input, (SELECT MAX(seq) FROM events WHERE task_id = tasks.id) AS maxSeq FROM tasks WHERE status IN (${statuses.map(() => '?').join(',')}) ORDER BY created_at, id`;
    return (this.db.prepare(sql).all(...statuses) as Row[]).map(fromRow);
  }

  appendEvents(events: readonly TaskEvent[]): void {
    if (events.length === 0) return;
    this.commit({ inserts: [], events, updates: [] });
  }

  readEvents(taskId: string, afterSeq: number, limit = 1_000_000, maxBytes?: number): TaskEvent[] {
    if (maxBytes === undefined) {
      const rows = this.stmts.readEvents.all(taskId, afterSeq, limit) as Array<{ body: string }>;
      return rows.map((r) => JSON.parse(r.body) as TaskEvent);
    }
    const out: TaskEvent[] = [];
    let bytes = 0;
    for (const r of this.stmts.readEvents.iterate(taskId, afterSeq, limit) as Iterable<{ body: string }>) {
      out.push(JSON.parse(r.body) as TaskEvent);
      bytes += r.body.length;
      if (bytes >= maxBytes) break; // ends the iterator, which resets the statement
    }
    return out;
  }

  countByStatus(): Record<string, number> {
    const rows = this.stmts.counts.all() as Array<{ status: string; n: number }>;
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** The task without its input: what changes over a task's life. */
function mutableJson(task: Task): string {
  const { input: _input, ...rest } = task;
  return JSON.stringify(rest);
}

function fromRow(r: Row): Task {
  const body = JSON.parse(r.body) as Task;
  if (r.input !== null) body.input = JSON.parse(r.input) as Task['input'];
  if (r.maxSeq && r.maxSeq > body.lastSeq) body.lastSeq = r.maxSeq;
  return body;
}

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Task, TaskEvent, TaskStatus } from '../protocol/tasks.js';
import type { TaskFilter, TaskStore } from './store.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS tasks (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  status TEXT NOT NULL,
  extension_id TEXT,
  parent_id TEXT,
  created_at TEXT NOT NULL,
  body TEXT NOT NULL
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

/** SQLite in WAL mode; a task row holds the whole task as JSON plus the columns lists filter on. */
export class SqliteTaskStore implements TaskStore {
  private readonly db: Database.Database;
  private readonly stmts;

  constructor(dataDir: string, file = 'switchboard.db') {
    mkdirSync(dataDir, { recursive: true });
    this.db = new Database(join(dataDir, file));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(SCHEMA);
    this.stmts = {
      insert: this.db.prepare(
        'INSERT INTO tasks (id, kind, status, extension_id, parent_id, created_at, body) VALUES (@id, @kind, @status, @extensionId, @parentId, @createdAt, @body)',
      ),
      update: this.db.prepare(
        'UPDATE tasks SET status = @status, extension_id = @extensionId, body = @body WHERE id = @id',
      ),
      get: this.db.prepare('SELECT body FROM tasks WHERE id = ?'),
      appendEvent: this.db.prepare('INSERT OR IGNORE INTO events (task_id, seq, body) VALUES (?, ?, ?)'),
      readEvents: this.db.prepare(
        'SELECT body FROM events WHERE task_id = ? AND seq > ? ORDER BY seq LIMIT ?',
      ),
      counts: this.db.prepare('SELECT status, COUNT(*) AS n FROM tasks GROUP BY status'),
    };
  }

  private row(task: Task) {
    return {
      id: task.id,
      kind: task.kind,
      status: task.status,
      extensionId: task.extensionId,
      parentId: task.parentId,
      createdAt: task.createdAt,
      body: JSON.stringify(task),
    };
  }

  insertTask(task: Task): void {
    this.stmts.insert.run(this.row(task));
  }

  updateTask(task: Task): void {
    this.stmts.update.run(this.row(task));
  }

  getTask(id: string): Task | null {
    const r = this.stmts.get.get(id) as { body: string } | undefined;
    return r ? (JSON.parse(r.body) as Task) : null;
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
    const sql = `SELECT body FROM tasks ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT ?`;
    const rows = this.db.prepare(sql).all(...params, f.limit) as Array<{ body: string }>;
    return rows.map((r) => JSON.parse(r.body) as Task);
  }

  tasksWithStatus(statuses: readonly TaskStatus[]): Task[] {
    if (statuses.length === 0) return [];
    const sql = `SELECT body FROM tasks WHERE status IN (${statuses.map(() => '?').join(',')}) ORDER BY created_at, id`;
    return (this.db.prepare(sql).all(...statuses) as Array<{ body: string }>).map(
      (r) => JSON.parse(r.body) as Task,
    );
  }

  appendEvents(events: readonly TaskEvent[]): void {
    if (events.length === 0) return;
    const tx = this.db.transaction((evs: readonly TaskEvent[]) => {
      for (const e of evs) this.stmts.appendEvent.run(e.taskId, e.seq, JSON.stringify(e));
    });
    tx(events);
  }

  readEvents(taskId: string, afterSeq: number, limit = 1_000_000): TaskEvent[] {
    const rows = this.stmts.readEvents.all(taskId, afterSeq, limit) as Array<{ body: string }>;
    return rows.map((r) => JSON.parse(r.body) as TaskEvent);
  }

  countByStatus(): Record<string, number> {
    const rows = this.stmts.counts.all() as Array<{ status: string; n: number }>;
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

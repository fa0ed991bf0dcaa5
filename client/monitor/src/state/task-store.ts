import { TASK_STATUSES, type TaskStatus, type TaskSummary, type TaskWaiting } from '../protocol.js';
import { Emitter } from './emitter.js';

export type StatusCounts = Record<TaskStatus, number>;

/**
 * Every task the page knows of, newest first. Fed by `task:list` pages and the live `task:summary` feed, which
 * can arrive in either order: the summary with the higher `lastSeq` (more events seen) wins.
 */
export class TaskStore {
  private readonly byId = new Map<string, TaskSummary>();
  private order: string[] = [];
  private orderStale = false;
  /** Bumped on every change, so views can skip work when nothing moved. */
  version = 0;
  readonly changed = new Emitter<void>();
  /** Why queued tasks wait (summaries, the feed's task:waiting notes, and a followed task's log events). */
  private readonly waiting = new Map<string, TaskWaiting>();

  setWaiting(note: TaskWaiting): void {
    const known = this.waiting.get(note.taskId);
    if (known?.message === note.message) return;
    this.waiting.set(note.taskId, note);
    this.version += 1;
    this.changed.emit();
  }

  /** The latest reason a task waits, while it is still queued. */
  waitingOf(id: string): TaskWaiting | undefined {
    const t = this.byId.get(id);
    if (t && t.status !== 'queued') {
      this.waiting.delete(id);
      return undefined;
    }
    return this.waiting.get(id);
  }

  upsert(summary: TaskSummary): void {
    this.merge(summary);
    this.changed.emit();
  }

  upsertMany(list: readonly TaskSummary[]): void {
    for (const s of list) this.merge(s);
    this.changed.emit();
  }

  get(id: string): TaskSummary | undefined {
    return this.byId.get(id);
  }

  get size(): number {
    return this.byId.size;
  }

  /** Newest first (by creation time, then id for a stable order). */
  all(): TaskSummary[] {
    if (this.orderStale) {
      this.order = [...this.byId.values()]
        .sort((a, b) => (a.createdAt === b.createdAt ? cmp(b.id, a.id) : cmp(b.createdAt, a.createdAt)))
        .map((t) => t.id);
      this.orderStale = false;
    }
    const out: TaskSummary[] = [];
    for (const id of this.order) {
      const t = this.byId.get(id);
      if (t) out.push(t);
    }
    return out;
  }

  counts(): StatusCounts {
    const counts = Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as StatusCounts;
    for (const t of this.byId.values()) counts[t.status] += 1;
    return counts;
  }

  childrenOf(parentId: string): TaskSummary[] {
    return this.all().filter((t) => t.parentId === parentId);
  }

  private merge(summary: TaskSummary): void {
    const known = this.byId.get(summary.id);
    if (known && known.lastSeq > summary.lastSeq) return;
    if (!known) this.orderStale = true;
    this.byId.set(summary.id, summary);
    // A summary says why a queued task waits as of its lastSeq: a page opened late needs no live note.
    if (summary.waiting && summary.status === 'queued')
      this.waiting.set(summary.id, { taskId: summary.id, ...summary.waiting });
    this.version += 1;
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

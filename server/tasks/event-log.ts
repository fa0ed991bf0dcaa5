import type { Task, TaskEvent } from '../protocol/tasks.js';
import type { TaskStore } from './store.js';

/**
 * Buffers new task rows, events and task-row changes and writes them once per tick in one transaction (group
 * commit). `flush()` also runs synchronously before any status or terminal event is broadcast, so what a
 * client was told is on disk; output and tokens ride along with the next flush.
 */
export class EventLog {
  private pending: TaskEvent[] = [];
  private inserts: Task[] = [];
  private dirtyTasks = new Map<string, Task>();
  private scheduled = false;
  private closed = false;

  constructor(private readonly store: TaskStore) {}

  /** A new task row; its later changes in the same tick are written by the same insert. */
  insert(task: Task): void {
    this.inserts.push(task);
    this.schedule();
  }

  /**
   * An event. It does not mark its task row dirty: the row's `lastSeq` is written with the next status change,
   * and the store recomputes it from the events for tasks a crash left unfinished.
   */
  append(event: TaskEvent): void {
    this.pending.push(event);
    this.schedule();
  }

  /** Marks a task row for the next flush (its status or another field changed). */
  touch(task: Task): void {
    this.dirtyTasks.set(task.id, task);
    this.schedule();
  }

  flush(): void {
    if (this.closed) return;
    if (!this.pending.length && !this.inserts.length && !this.dirtyTasks.size) return;
    const events = this.pending;
    const inserts = this.inserts;
    const fresh = new Set(inserts.map((t) => t.id));
    const updates: Task[] = [];
    for (const t of this.dirtyTasks.values()) if (!fresh.has(t.id)) updates.push(t);
    this.pending = [];
    this.inserts = [];
    this.dirtyTasks = new Map();
    this.store.commit({ inserts, events, updates });
  }

  /** Stored events with seq > afterSeq followed by the not-yet-flushed ones: the full gapless tail. */
  read(taskId: string, afterSeq: number): TaskEvent[] {
    const stored = this.store.readEvents(taskId, afterSeq);
    const lastStored = stored.at(-1)?.seq ?? afterSeq;
    const buffered = this.pending.filter((e) => e.taskId === taskId && e.seq > lastStored);
    return buffered.length ? stored.concat(buffered) : stored;
  }

  close(): void {
    this.flush();
    this.closed = true;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }
}

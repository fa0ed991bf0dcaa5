import type { Task, TaskEvent } from '../protocol/tasks.js';
import type { TaskStore } from './store.js';

/**
 * Buffers event and task-row writes and flushes them once per tick in one transaction. `flush()` runs
 * synchronously before any status or terminal event is broadcast, so what a client was told is on disk.
 */
export class EventLog {
  private pending: TaskEvent[] = [];
  private dirtyTasks = new Map<string, Task>();
  private scheduled = false;
  private closed = false;

  constructor(private readonly store: TaskStore) {}

  append(event: TaskEvent, task: Task): void {
    this.pending.push(event);
    this.dirtyTasks.set(task.id, task);
    this.schedule();
  }

  /** Marks a task row for the next flush without an event (e.g. a heartbeat-only change). */
  touch(task: Task): void {
    this.dirtyTasks.set(task.id, task);
    this.schedule();
  }

  flush(): void {
    if (this.closed) return;
    const events = this.pending;
    const tasks = [...this.dirtyTasks.values()];
    this.pending = [];
    this.dirtyTasks = new Map();
    if (events.length) this.store.appendEvents(events);
    for (const t of tasks) this.store.updateTask(t);
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

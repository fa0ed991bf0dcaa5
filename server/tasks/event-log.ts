import type { Task, TaskEvent } from '../protocol/tasks.js';
import type { TaskStore } from './store.js';

/**
 * Group commit: buffers new task rows, events and changed task rows, and writes everything one tick touched in
 * one transaction at the end of the tick (setImmediate, after the I/O that tick read).
 *
 * A status change raises a commit barrier: until the commit, whatever would tell someone about it (its
 * broadcast, a socket ack, an HTTP reply, a job sent to a host) waits in `afterCommit`, so nobody learns of a
 * status that is not on disk. Output and tokens are broadcast at once while no barrier is up, and ride along
 * with the next commit ("token events may be coalesced per tick; status and terminal events are flushed to
 * disk before they are broadcast").
 */
/** Rough size of an event, for paging: its text fields are where the bytes are. */
function sizeOf(e: TaskEvent): number {
  const d = e.data as { text?: unknown };
  return 100 + (typeof d.text === 'string' ? d.text.length : 0);
}

export class EventLog {
  private pending: TaskEvent[] = [];
  private inserts: Task[] = [];
  private dirtyTasks = new Map<string, Task>();
  private held: Array<() => void> = [];
  private barrier = false;
  private scheduled = false;
  private closed = false;

  constructor(
    private readonly store: TaskStore,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  /** A new task row; its later changes before the commit are written by the same insert. */
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

  /** Marks a task row for the next commit (its status or another field changed). */
  touch(task: Task): void {
    this.dirtyTasks.set(task.id, task);
    this.schedule();
  }

  /** What was touched must be on disk before anyone hears of it: hold `afterCommit` work until the commit. */
  requireCommit(): void {
    this.barrier = true;
    this.schedule();
  }

  /** Whether a commit barrier is up (work passed to `afterCommit` would wait). */
  get holding(): boolean {
    return this.barrier;
  }

  /** Runs `fn` now, or right after the next commit while a barrier is up; in the order given. */
  afterCommit(fn: () => void): void {
    if (this.barrier) this.held.push(fn);
    else fn();
  }

  /** Resolves once what has been changed so far is on disk (at once when no barrier is up). */
  durable(): Promise<void> {
    return this.barrier ? new Promise((resolve) => this.held.push(resolve)) : Promise.resolve();
  }

  /** A task changed since the last commit (its newest state), if any: reads must not see the stale row. */
  uncommitted(id: string): Task | undefined {
    return this.dirtyTasks.get(id);
  }

  flush(): void {
    if (this.closed) return;
    if (this.pending.length || this.inserts.length || this.dirtyTasks.size) {
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
    if (!this.barrier) return;
    // Work released here may raise a new barrier; it then waits for the next commit, in a new queue.
    this.barrier = false;
    const run = this.held;
    this.held = [];
    for (const fn of run) {
      try {
        fn();
      } catch (err) {
        this.onError(err);
      }
    }
  }

  /** Stored events with seq > afterSeq followed by the not-yet-flushed ones: the full gapless tail. */
  read(taskId: string, afterSeq: number, limit?: number, maxBytes?: number): TaskEvent[] {
    const stored = this.store.readEvents(taskId, afterSeq, limit, maxBytes);
    if (limit !== undefined && stored.length >= limit) return stored;
    if (maxBytes !== undefined && stored.length && stored.reduce((n, e) => n + sizeOf(e), 0) >= maxBytes)
      return stored;
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

import type { Task, TaskEvent } from '../protocol/tasks.js';
import type { Awaitable, CommitBatch, TaskStore } from './store.js';

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

function merge(
  stored: TaskEvent[],
  unacked: TaskEvent[],
  afterSeq: number,
  limit?: number,
  maxBytes?: number,
): TaskEvent[] {
  if (limit !== undefined && stored.length >= limit) return stored;
  if (maxBytes !== undefined && stored.length && stored.reduce((n, e) => n + sizeOf(e), 0) >= maxBytes)
    return stored;
  const lastStored = stored.at(-1)?.seq ?? afterSeq;
  const buffered = unacked.filter((e) => e.seq > lastStored);
  return buffered.length ? stored.concat(buffered) : stored;
}

export class EventLog {
  private pending: TaskEvent[] = [];
  private inserts: Task[] = [];
  private dirtyTasks = new Map<string, Task>();
  private held: Array<() => void> = [];
  private barrier = false;
  private scheduled = false;
  private closed = false;
  /** A commit the store answers later (Redis): what it carries, and the work waiting on it with no barrier. */
  private inflight: Promise<void> | undefined;
  private inflightEvents: TaskEvent[] = [];
  private inflightTasks = new Map<string, Task>();
  private afterInflight: Array<() => void> = [];

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
    return this.barrier || this.inflight !== undefined;
  }

  /** Runs `fn` now, or right after the next commit while a barrier is up (or a commit is out); in order. */
  afterCommit(fn: () => void): void {
    if (this.barrier) this.held.push(fn);
    else if (this.inflight) this.afterInflight.push(fn);
    else fn();
  }

  /** Resolves once what has been changed so far is on disk (at once when no barrier is up). */
  durable(): Promise<void> {
    return this.holding ? new Promise((resolve) => this.afterCommit(resolve)) : Promise.resolve();
  }

  /** A task changed since the last commit (its newest state), if any: reads must not see the stale row. */
  uncommitted(id: string): Task | undefined {
    return this.dirtyTasks.get(id) ?? this.inflightTasks.get(id);
  }

  /** Events of a task recorded but not yet acknowledged by the store, in seq order. */
  unacked(taskId: string): TaskEvent[] {
    const out: TaskEvent[] = [];
    for (const e of this.inflightEvents) if (e.taskId === taskId) out.push(e);
    for (const e of this.pending) if (e.taskId === taskId) out.push(e);
    return out;
  }

  /**
   * Commits what is buffered. A store that answers at once (SQLite) is done on return, as before; one that
   * answers later (Redis) gets one commit out at a time, retried until it lands, and the work held for it
   * runs once it has.
   */
  flush(): Awaitable<void> {
    if (this.closed) return;
    if (this.inflight) return this.inflight.then(() => this.flush());
    let batch: CommitBatch | undefined;
    let commit: Awaitable<void> | undefined;
    if (this.pending.length || this.inserts.length || this.dirtyTasks.size) {
      const events = this.pending;
      const inserts = this.inserts;
      const fresh = new Set(inserts.map((t) => t.id));
      const updates: Task[] = [];
      for (const t of this.dirtyTasks.values()) if (!fresh.has(t.id)) updates.push(t);
      batch = { inserts, events, updates };
      this.pending = [];
      this.inserts = [];
      const dirty = this.dirtyTasks;
      this.dirtyTasks = new Map();
      commit = this.store.commit(batch);
      if (commit instanceof Promise) {
        this.inflightEvents = events;
        this.inflightTasks = dirty;
      }
    }
    // Work released here may raise a new barrier; it then waits for the next commit, in a new queue.
    const run = this.barrier ? this.held : [];
    this.barrier = false;
    this.held = [];
    if (batch && commit instanceof Promise) {
      const landed = this.settle(batch, commit).then(() => {
        this.inflight = undefined;
        this.inflightEvents = [];
        this.inflightTasks = new Map();
        const after = this.afterInflight;
        this.afterInflight = [];
        this.release(run);
        this.release(after);
      });
      this.inflight = landed;
      return landed;
    }
    this.release(run);
  }

  /** Waits for a commit, retrying it (the same batch: the driver makes that harmless) while the store is down. */
  private async settle(batch: CommitBatch, first: Promise<void>): Promise<void> {
    let attempt = first;
    for (let n = 0; ; n++) {
      try {
        await attempt;
        return;
      } catch (err) {
        if (this.closed) return;
        if (n === 0) this.onError(err);
        await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** n, 2_000)));
        attempt = Promise.resolve().then(() => this.store.commit(batch));
      }
    }
  }

  private release(run: Array<() => void>): void {
    for (const fn of run) {
      try {
        fn();
      } catch (err) {
        this.onError(err);
      }
    }
  }

  /**
   * Stored events with seq > afterSeq followed by the not-yet-acknowledged ones: the full gapless tail. What
   * is not acknowledged is taken before the store is asked, so a commit landing meanwhile loses nothing.
   */
  read(taskId: string, afterSeq: number, limit?: number, maxBytes?: number): Awaitable<TaskEvent[]> {
    const unacked = this.unacked(taskId);
    const stored = this.store.readEvents(taskId, afterSeq, limit, maxBytes);
    if (stored instanceof Promise) return stored.then((s) => merge(s, unacked, afterSeq, limit, maxBytes));
    return merge(stored, unacked, afterSeq, limit, maxBytes);
  }

  /** Commits what is left; a store that stays down gets a few seconds, then what it missed is dropped. */
  async close(): Promise<void> {
    const flushed = this.flush();
    if (flushed) await Promise.race([flushed, new Promise((r) => setTimeout(r, 5_000).unref())]);
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

import type { Logger } from '../log.js';
import { isTerminal, type TaskEvent } from '../protocol/tasks.js';

/** Where the events of other processes' tasks come from: the change stream and the store behind it. */
export interface RemoteSource {
  /** Resolves once this process has taken every change committed before the call. */
  caughtUp(): Promise<void>;
  /**
   * Stored events of a task with seq > afterSeq, at most `limit`, stopping after the one that takes the page
   * past `maxBytes` (to fill a gap the change stream left, or an event it carries by reference).
   */
  read(taskId: string, afterSeq: number, limit: number, maxBytes: number): Promise<TaskEvent[]>;
}

/** An event the change stream names instead of carrying (its body is large): read it from the store. */
export interface EventRef {
  taskId: string;
  seq: number;
  ref: true;
}

const isRef = (e: TaskEvent | EventRef): e is EventRef => (e as EventRef).ref === true;

interface Known {
  /** The newest seq this process has told its listeners (or knows all listeners have from the store). */
  told: number;
  /** The last events told, for a subscriber joining a room between its replay and the next event. */
  tail: TaskEvent[];
}

/** Events kept per task for `catchUp`: a subscriber further behind reads another page from the store. */
const TAIL = 256;
/** Bytes per store read when filling: a gap of megabyte chunks is read a page at a time. */
const READ_BYTES = 1 << 20;
/** Ended tasks still known (so a late subscriber needs no barrier to learn nothing more is coming). */
const ENDED_KEPT = 2_000;

/**
 * The tasks other hub processes run, as this process has been told of them (cluster mode). Each event of
 * theirs reaches this process once, through the change stream (in commit order), and is told here to the
 * local listeners, each seq once and in order: a gap (a stream entry trimmed away) is filled from the store,
 * and so is an event the stream carries only by reference (a large body, see redis-scripts.ts).
 *
 * A subscriber joining a room replays from the store first; `settle` then waits until the change stream has
 * caught up with what that read saw, so `catchUp` can hand over exactly the events told since, and no event
 * reaches the room member twice or not at all. The owner's own listeners never go through here.
 */
export class RemoteTasks {
  private readonly known = new Map<string, Known>();
  private readonly ended: string[] = [];

  constructor(
    private readonly source: RemoteSource,
    private readonly tell: (event: TaskEvent) => void,
    private readonly logger: Logger,
  ) {}

  /** One commit's events from another process (or references to them), in seq order per task. */
  async take(events: ReadonlyArray<TaskEvent | EventRef>): Promise<void> {
    for (const e of events) {
      const k = this.known.get(e.taskId);
      if (k && e.seq <= k.told) continue;
      if (isRef(e)) await this.fill(e.taskId, k ? k.told : e.seq - 1, e.seq);
      else {
        if (k && e.seq > k.told + 1) await this.fill(e.taskId, k.told, e.seq - 1);
        this.told(e);
      }
    }
  }

  /** Resolves once every change committed before the call has been told here. */
  caughtUp(): Promise<void> {
    return this.source.caughtUp();
  }

  /** After a store read that ended at `seq`: waits for the change stream to catch up with it. */
  async settle(taskId: string, seq: number): Promise<void> {
    await this.source.caughtUp();
    const k = this.entry(taskId);
    // Everything committed before the read has been taken: what the read saw beyond `told` predates this
    // process's reader (or the stream's trim) and will never be told here; the read's reader has it.
    if (k.told < seq) {
      k.told = seq;
      k.tail = [];
    }
  }

  /** The events told after `afterSeq`, if this process still holds them all; null: read the store again. */
  catchUp(taskId: string, afterSeq: number): TaskEvent[] | null {
    const k = this.known.get(taskId);
    if (!k) return null;
    if (afterSeq >= k.told) return [];
    const out = k.tail.filter((e) => e.seq > afterSeq);
    return out.length === k.told - afterSeq ? out : null;
  }

  private told(e: TaskEvent): void {
    const k = this.entry(e.taskId);
    k.told = e.seq;
    k.tail.push(e);
    if (k.tail.length > TAIL) k.tail.splice(0, k.tail.length - TAIL);
    if (e.type === 'status' && isTerminal(e.data.status)) {
      this.ended.push(e.taskId);
      if (this.ended.length > ENDED_KEPT) this.known.delete(this.ended.shift() as string);
    }
    this.tell(e);
  }

  /** Tells the stored events after seq `from` up to `to`, read a page at a time. */
  private async fill(taskId: string, from: number, to: number): Promise<void> {
    let after = from;
    try {
      while (after < to) {
        const page = await this.source.read(taskId, after, to - after, READ_BYTES);
        const start = after;
        for (const e of page)
          if (e.seq > after && e.seq <= to) {
            this.told(e);
            after = e.seq;
          }
        // Nothing more stored up to `to` (trimmed): the subscribers resume by seq.
        if (after === start) break;
      }
    } catch (err) {
      this.logger.warn(
        { err, taskId, from: after + 1, to },
        'cluster: events missing from the change stream could not be read; subscribers resume by seq',
      );
    }
  }

  private entry(taskId: string): Known {
    let k = this.known.get(taskId);
    if (!k) {
      k = { told: 0, tail: [] };
      this.known.set(taskId, k);
    }
    return k;
  }
}

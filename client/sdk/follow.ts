import { isTerminal, type Task, TaskEvent } from '../../server/protocol/index.js';
import { SwitchboardError, toSwitchboardError } from '../core/errors.js';
import type { MonitorConnection } from './connection.js';

export interface FollowOptions {
  /** Deliver events with a seq above this one (0, the default, replays the whole stream). */
  afterSeq?: number;
  /** Called for each event as it arrives, before the iterator yields it. */
  onEvent?: (event: TaskEvent) => void;
  /** Stops following; the iterator then ends without an error. */
  signal?: AbortSignal;
}

type State = 'open' | 'ended' | 'failed';

/**
 * A task's event stream as an async iterator. It remembers the highest seq delivered and, after every
 * (re)connect, subscribes again from there, so a dropped socket costs neither a gap nor a duplicate. It
 * ends after the terminal status event.
 */
export class TaskStream implements AsyncIterableIterator<TaskEvent> {
  readonly taskId: string;
  /** The task as the hub reported it when the first subscription was accepted. */
  readonly subscribed: Promise<Task>;
  readonly #conn: MonitorConnection;
  readonly #onEvent: ((event: TaskEvent) => void) | undefined;
  readonly #signal: AbortSignal | undefined;
  readonly #onSettled: (stream: TaskStream) => void;
  #lastSeq: number;
  #state: State = 'open';
  #error: SwitchboardError | undefined;
  #queue: TaskEvent[] = [];
  #waiters: Array<() => void> = [];
  /** Bumped per subscribe so the outcome of one made before a reconnect is ignored. */
  #generation = 0;
  #settleSubscribed: { resolve: (task: Task) => void; reject: (err: SwitchboardError) => void } | undefined;

  constructor(
    conn: MonitorConnection,
    taskId: string,
    opts: FollowOptions,
    onSettled: (stream: TaskStream) => void,
  ) {
    this.#conn = conn;
    this.taskId = taskId;
    this.#lastSeq = opts.afterSeq ?? 0;
    this.#onEvent = opts.onEvent;
    this.#signal = opts.signal;
    this.#onSettled = onSettled;
    this.subscribed = new Promise<Task>((resolve, reject) => {
      this.#settleSubscribed = { resolve, reject };
    });
    this.subscribed.catch(() => {});
  }

  /** Seq of the last event delivered (or the starting `afterSeq`). */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  get isOpen(): boolean {
    return this.#state === 'open';
  }

  /** Attaches to the socket; called once by the client right after construction. */
  start(): void {
    if (this.#signal?.aborted) {
      this.#end(true);
      return;
    }
    this.#signal?.addEventListener('abort', this.#onAbort, { once: true });
    this.#conn.onTaskEvent(this.#onTaskEvent);
    this.#conn.onConnect(this.#subscribe);
    if (this.#conn.connected) this.#subscribe();
  }

  async next(): Promise<IteratorResult<TaskEvent, undefined>> {
    for (;;) {
      const event = this.#queue.shift();
      if (event) return { value: event, done: false };
      if (this.#state === 'failed' && this.#error) {
        const err = this.#error;
        this.#error = undefined; // throw once; later calls see a finished iterator
        throw err;
      }
      if (this.#state !== 'open') return { value: undefined, done: true };
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  /** Called by `for await` on `break`: stop following and drop anything not yet read. */
  async return(): Promise<IteratorResult<TaskEvent, undefined>> {
    this.close();
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Stops following now; the iterator ends without an error. */
  close(): void {
    this.#end(true);
  }

  /** Ends the stream with an error, delivered after the events already received. */
  fail(err: unknown): void {
    if (this.#state !== 'open') return;
    this.#error = toSwitchboardError(err, `follow ${this.taskId}`);
    this.#settleSubscribed?.reject(this.#error);
    this.#finish('failed');
  }

  #subscribe = (): void => {
    if (this.#state !== 'open') return;
    const generation = ++this.#generation;
    const payload = { taskId: this.taskId, afterSeq: this.#lastSeq };
    this.#conn
      .call('task:subscribe', (s) => s.emitWithAck('task:subscribe', payload))
      .then((task) => {
        if (generation !== this.#generation || this.#state !== 'open') return;
        this.#settleSubscribed?.resolve(task);
        // Everything up to the terminal event was already delivered: the hub has nothing more to send.
        if (isTerminal(task.status) && task.lastSeq <= this.#lastSeq) this.#end(false);
      })
      .catch((err: unknown) => {
        // A request lost with its connection is repeated by the next 'connect'; anything else is final.
        if (generation !== this.#generation || !this.#conn.connected) return;
        this.fail(err);
      });
  };

  #onTaskEvent = (raw: unknown): void => {
    // The socket carries every followed task's events; parse only this task's.
    if (this.#state !== 'open' || (raw as { taskId?: unknown } | null)?.taskId !== this.taskId) return;
    const parsed = TaskEvent.safeParse(raw);
    if (!parsed.success) {
      const details = parsed.error.issues;
      this.fail(new SwitchboardError('bad_response', 'task:event does not match the contract.', { details }));
      return;
    }
    const event = parsed.data;
    if (event.seq <= this.#lastSeq) return;
    this.#lastSeq = event.seq;
    this.#queue.push(event);
    try {
      this.#onEvent?.(event);
    } catch (err) {
      this.fail(err);
      return;
    }
    if (event.type === 'status' && isTerminal(event.data.status)) this.#end(false);
    else this.#wake();
  };

  #onAbort = (): void => this.#end(true);

  #end(discard: boolean): void {
    if (this.#state !== 'open') return;
    if (discard) this.#queue.length = 0;
    this.#settleSubscribed?.reject(
      new SwitchboardError('client_closed', 'Stopped following before subscribing.'),
    );
    this.#finish('ended');
  }

  #finish(state: Exclude<State, 'open'>): void {
    this.#state = state;
    this.#conn.offTaskEvent(this.#onTaskEvent);
    this.#conn.offConnect(this.#subscribe);
    this.#signal?.removeEventListener('abort', this.#onAbort);
    this.#wake();
    this.#onSettled(this);
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}

import { HubError } from '../errors.js';
import { fixedFieldLogger, type Logger } from '../log.js';
import {
  type EventDataOf,
  type EventType,
  isTerminal,
  type StatusReason,
  type Target,
  type Task,
  type TaskError,
  type TaskEvent,
  type TaskKind,
  type TaskListQuery,
  TaskListQuery as TaskListQuerySchema,
  type TaskPage,
  type TaskStatus,
  type TaskSummary,
  TaskSummary as TaskSummarySchema,
} from '../protocol/tasks.js';
import { EventLog } from './event-log.js';
import { newTaskId, newTraceId } from './ids.js';
import type { RemoteTasks } from './remote-tasks.js';
import { assertTransition } from './state-machine.js';
import type { Awaitable, TaskStore } from './store.js';

export interface NewTask {
  kind: TaskKind;
  input: Record<string, unknown>;
  target?: Target;
  timeoutMs: number;
  maxAttempts: number;
  traceId?: string | undefined;
  parentId?: string | undefined;
  parentCallId?: string | undefined;
}

export interface TransitionPatch {
  message?: string;
  extensionId?: string | null;
  result?: unknown;
  error?: TaskError | null;
  /** New value of the attempts counter (dispatch counts one; a host's refusal gives it back). */
  attempts?: number;
}

type EventListener = (event: TaskEvent) => void;
type SummaryListener = (summary: TaskSummary) => void;

/** How many ended tasks `live` still knows without a store read. */
const RECENT_KEPT = 2_000;

const SUMMARY_KEYS = (Object.keys(TaskSummarySchema.shape) as Array<keyof TaskSummary>).filter(
  (k): k is Exclude<keyof TaskSummary, 'name'> => k !== 'name',
);

/** The list-view fields of a task (the contract's TaskSummary), without input or result. */
export function summaryOf(t: Task): TaskSummary {
  const summary = {} as Record<string, unknown>;
  // Fields a task does not have (optional ones) stay out of the summary rather than showing as undefined.
  for (const k of SUMMARY_KEYS) if (t[k] !== undefined) summary[k] = t[k];
  const name = t.input['workflow'] ?? t.input['tool'];
  if (typeof name === 'string') summary['name'] = name;
  return summary as TaskSummary;
}

/**
 * The heart: creates tasks, moves them through the state machine and appends their events with a gapless
 * per-task seq. Every event goes to the log and then to listeners (rooms, SSE streams) in the same tick.
 */
export class TaskService {
  /** Tasks not yet finished, kept in memory: the hot path never reads the store. */
  private readonly active = new Map<string, Task>();
  private readonly taskListeners = new Map<string, Set<EventListener>>();
  private readonly eventListeners = new Set<EventListener>();
  private readonly summaryListeners = new Set<SummaryListener>();
  /** Listeners that also hear of other hub processes' tasks (cluster mode): rooms and feeds, not local logic. */
  private readonly remoteEventListeners = new Set<EventListener>();
  private readonly remoteSummaryListeners = new Set<SummaryListener>();
  /** The tasks other hub processes run, as this one has been told of them (cluster mode only). */
  private remote: RemoteTasks | undefined;
  /** Per task, events recorded but held behind a commit barrier: replay stops before the first of them. */
  private readonly held = new Map<string, { first: number; count: number }>();
  /** Tasks that ended lately, so reports racing their end (late output, a result) are judged without a read. */
  private readonly recent = new Map<string, Task>();
  readonly log: EventLog;
  /** The per-task line: ids, status, reason and numbers only (see fixedFieldLogger). */
  private readonly taskLines: Logger;

  /** A service on a store that answers at once (SQLite, memory); `open` works with any store. */
  constructor(
    readonly store: TaskStore,
    private readonly logger: Logger,
    active?: readonly Task[],
  ) {
    this.log = new EventLog(store, (err) => this.logger.error({ err }, 'task listener or commit failed'));
    this.taskLines = fixedFieldLogger(logger);
    const unfinished = active ?? store.tasksWithStatus(['queued', 'dispatched', 'running']);
    if (unfinished instanceof Promise) throw new Error('this store answers later: use TaskService.open');
    for (const t of unfinished) this.active.set(t.id, t);
  }

  /** Loads the unfinished tasks from the store (awaiting it when it answers later, as Redis does). */
  static async open(store: TaskStore, logger: Logger): Promise<TaskService> {
    return new TaskService(store, logger, await store.tasksWithStatus(['queued', 'dispatched', 'running']));
  }

  /** Refuses new work while the store cannot be reached: nothing is accepted that could not be kept. */
  assertAvailable(): void {
    if (this.store.available === false)
      throw new HubError('store_unavailable', 'the task store cannot be reached; try again shortly');
  }

  create(spec: NewTask): Task {
    this.assertAvailable();
    const now = new Date().toISOString();
    const task: Task = {
      id: newTaskId(),
      kind: spec.kind,
      status: 'queued',
      target: spec.target ?? {},
      parentId: spec.parentId ?? null,
      ...(spec.parentCallId ? { parentCallId: spec.parentCallId } : {}),
      traceId: spec.traceId ?? newTraceId(),
      attempts: 0,
      maxAttempts: spec.maxAttempts,
      timeoutMs: spec.timeoutMs,
      extensionId: null,
      input: spec.input,
      result: null,
      error: null,
      createdAt: now,
      updatedAt: now,
      startedAt: null,
      endedAt: null,
      lastSeq: 0,
    };
    this.log.insert(task);
    this.active.set(task.id, task);
    if (this.logger.isLevelEnabled('debug'))
      this.logger.debug(
        { taskId: task.id, traceId: task.traceId, kind: task.kind, status: 'queued' },
        'task created',
      );
    this.emitStatus(task, 'submitted');
    return { ...task };
  }

  /**
   * The task as this process holds it, at once: unfinished, changed since the last commit, or ended lately
   * (or read from a store that answers at once). Null means ask the store (`get`).
   */
  live(id: string): Task | null {
    const live = this.active.get(id) ?? this.log.uncommitted(id) ?? this.recent.get(id);
    return live ? { ...live } : (this.store.getTaskSync?.(id) ?? null);
  }

  async get(id: string): Promise<Task | null> {
    return this.live(id) ?? (await this.reading(() => this.store.getTask(id)));
  }

  /**
   * Runs `fn` once every change made so far is on disk: at once, or right after this tick's commit. Whatever
   * tells a client about a task (an ack, a reply, a job sent to a host) goes through here.
   */
  afterCommit(fn: () => void): void {
    this.log.afterCommit(fn);
  }

  async require(id: string): Promise<Task> {
    const t = await this.get(id);
    if (!t) throw new HubError('not_found', `no task with id ${id}`, { field: 'taskId' });
    return t;
  }

  /** `live`, or not_found: for a task this process runs (just created, or its own run). */
  requireLive(id: string): Task {
    const t = this.live(id);
    if (!t) throw new HubError('not_found', `no task with id ${id}`, { field: 'taskId' });
    return t;
  }

  /**
   * Cluster mode (server/cluster): another process may write this task's events from now on. This process
   * forgets it (reads go to the store); call `log.flush()` before handing it over, so its events are stored.
   */
  release(id: string): void {
    this.active.delete(id);
    this.recent.delete(id);
  }

  /** Cluster mode: this process writes the task's events from now on, continuing its stored seq. */
  adopt(task: Task): Task {
    const mine = { ...task };
    this.active.set(mine.id, mine);
    this.recent.delete(mine.id);
    return { ...mine };
  }

  activeTasks(): Task[] {
    return [...this.active.values()].map((t) => ({ ...t }));
  }

  async list(query: TaskListQuery): Promise<TaskPage> {
    const q = TaskListQuerySchema.parse(query);
    this.assertAvailable();
    await this.log.flush();
    let before: { createdAt: string; id: string } | undefined;
    if (q.cursor) {
      const [createdAt, id] = Buffer.from(q.cursor, 'base64url').toString('utf8').split('|');
      if (!createdAt || !id)
        throw new HubError('bad_request', 'cursor: not a cursor this hub gave out', { field: 'cursor' });
      before = { createdAt, id };
    }
    const rows = await this.reading(() =>
      this.store.listTasks({
        status: q.status,
        kind: q.kind,
        extensionId: q.extensionId,
        parentId: q.parentId,
        limit: q.limit + 1,
        before,
      }),
    );
    const page = rows.slice(0, q.limit);
    const last = page.at(-1);
    const nextCursor =
      rows.length > q.limit && last
        ? Buffer.from(`${last.createdAt}|${last.id}`).toString('base64url')
        : null;
    return { tasks: page.map((t) => summaryOf(this.active.get(t.id) ?? t)), nextCursor };
  }

  /** Appends a non-status event (output, token, log, ...). Buffered to disk; broadcast at once. */
  append<T extends Exclude<EventType, 'status'>>(taskId: string, type: T, data: EventDataOf<T>): TaskEvent {
    const task = this.active.get(taskId);
    if (!task) throw new HubError('task_finished', `task ${taskId} is not active`);
    return this.push(task, type, data);
  }

  /** Moves a task to a new status, records the status event, flushes, then broadcasts. */
  transition(taskId: string, to: TaskStatus, reason: StatusReason, patch: TransitionPatch = {}): Task {
    const task = this.active.get(taskId);
    if (!task) {
      const stored = this.live(taskId);
      if (!stored) throw new HubError('not_found', `no task with id ${taskId}`);
      assertTransition(taskId, stored.status, to);
      throw new HubError('conflict', `task ${taskId} is not active`);
    }
    assertTransition(taskId, task.status, to);
    const now = new Date().toISOString();
    task.status = to;
    task.updatedAt = now;
    if (to !== 'queued') delete task.waiting;
    if (patch.attempts !== undefined) task.attempts = patch.attempts;
    if (patch.extensionId !== undefined) task.extensionId = patch.extensionId;
    if (to === 'running' && !task.startedAt) task.startedAt = now;
    if (patch.result !== undefined) task.result = patch.result;
    if (patch.error !== undefined) task.error = patch.error;
    if (isTerminal(to)) task.endedAt = now;
    this.logTransition(task, reason);
    this.emitStatus(task, reason, patch.message);
    if (isTerminal(to)) {
      this.active.delete(taskId);
      this.recent.set(taskId, task);
      if (this.recent.size > RECENT_KEPT) this.recent.delete(this.recent.keys().next().value as string);
    }
    return { ...task };
  }

  /** Ends a task: an `error` or `done` event, then the terminal status. */
  finish(
    taskId: string,
    status: 'succeeded' | 'failed' | 'cancelled' | 'timed_out',
    opts: { result?: unknown; error?: TaskError; reason: StatusReason; message?: string },
  ): Task {
    const task = this.active.get(taskId);
    if (!task) return this.transition(taskId, status, opts.reason); // throws the right error
    assertTransition(taskId, task.status, status);
    if (opts.error) this.push(task, 'error', opts.error);
    if (status === 'succeeded') this.push(task, 'done', { result: opts.result ?? null });
    return this.transition(taskId, status, opts.reason, {
      result: opts.result ?? null,
      error: opts.error ?? null,
      ...(opts.message ? { message: opts.message } : {}),
    });
  }

  /**
   * Events with seq > afterSeq that have been told: what a subscriber must be sent before live ones. For a
   * gapless stream use `follow`, or `catchUp` and the watch in one tick.
   */
  async replay(taskId: string, afterSeq: number): Promise<TaskEvent[]> {
    const first = this.held.get(taskId)?.first;
    const events = await this.reading(() => this.log.read(taskId, afterSeq));
    return first === undefined ? events : events.filter((e) => e.seq < first);
  }

  /**
   * One page of the replay: at most `limit` events (and about `maxBytes`) with seq > afterSeq; `more` when the
   * page is full and the backlog may go on. When `more` is false, the caller calls `catchUp` and starts
   * watching in one tick.
   */
  async replayPage(
    taskId: string,
    afterSeq: number,
    limit: number,
    maxBytes?: number,
  ): Promise<{ events: TaskEvent[]; more: boolean }> {
    const first = this.held.get(taskId)?.first;
    const read = await this.reading(() => this.log.read(taskId, afterSeq, limit, maxBytes));
    const events = (first === undefined ? read : read.filter((e) => e.seq < first)).slice(0, limit);
    let bytes = 0;
    for (const e of events) bytes += JSON.stringify(e).length;
    const more = events.length >= limit || (maxBytes !== undefined && bytes >= maxBytes);
    // Another process's task: before `catchUp`, this process must have been told all that the read saw.
    if (!more && this.remote && !this.runsHere(taskId))
      await this.remote.settle(taskId, events.at(-1)?.seq ?? afterSeq);
    return { events, more };
  }

  /**
   * The told events after `afterSeq` this process still holds in memory, if they reach the task's newest told
   * event; null when some of them are only in the store now (read another page). Returning a list means: start
   * watching in this same tick and nothing is missed or sent twice.
   */
  catchUp(taskId: string, afterSeq: number): TaskEvent[] | null {
    const t = this.active.get(taskId) ?? this.log.uncommitted(taskId) ?? this.recent.get(taskId);
    if (!t) return this.remote ? this.remote.catchUp(taskId, afterSeq) : []; // else ended long ago
    const held = this.held.get(taskId);
    const upTo = held ? held.first - 1 : t.lastSeq;
    if (afterSeq >= upTo) return [];
    const out = this.log.unacked(taskId).filter((e) => e.seq > afterSeq && e.seq <= upTo);
    return out.length === upTo - afterSeq && out[0]?.seq === afterSeq + 1 ? out : null;
  }

  /**
   * Replays the events after `afterSeq`, then streams live ones to `fn`, with no gap and no duplicate however
   * the store answers: listens first, holds what arrives during the read, drops what the read already gave.
   * Resolves with the function that stops it.
   */
  async follow(taskId: string, afterSeq: number, fn: EventListener): Promise<() => void> {
    let last = afterSeq;
    let buffer: TaskEvent[] | null = [];
    const deliver = (e: TaskEvent) => {
      if (e.seq <= last) return;
      last = e.seq;
      fn(e);
    };
    const stop = this.subscribeTask(taskId, (e) => (buffer ? buffer.push(e) : deliver(e)));
    try {
      for (const e of await this.replay(taskId, afterSeq)) deliver(e);
    } catch (err) {
      stop();
      throw err;
    }
    const queued = buffer;
    buffer = null;
    for (const e of queued) deliver(e);
    return stop;
  }

  /** Listens to one task's events. Call `replay` and this in the same tick for a gapless stream. */
  subscribeTask(taskId: string, fn: EventListener): () => void {
    const set = this.taskListeners.get(taskId) ?? new Set<EventListener>();
    this.taskListeners.set(taskId, set);
    set.add(fn);
    return () => {
      set.delete(fn);
      if (set.size === 0) this.taskListeners.delete(taskId);
    };
  }

  /** Every event of this process's tasks; with `remote`, of other hub processes' tasks as well. */
  onEvent(fn: EventListener, opts?: { remote?: boolean }): () => void {
    this.eventListeners.add(fn);
    if (opts?.remote) this.remoteEventListeners.add(fn);
    return () => {
      this.eventListeners.delete(fn);
      this.remoteEventListeners.delete(fn);
    };
  }

  /** Status changes of this process's tasks; with `remote`, of other hub processes' tasks as well. */
  onSummary(fn: SummaryListener, opts?: { remote?: boolean }): () => void {
    this.summaryListeners.add(fn);
    if (opts?.remote) this.remoteSummaryListeners.add(fn);
    return () => {
      this.summaryListeners.delete(fn);
      this.remoteSummaryListeners.delete(fn);
    };
  }

  /**
   * Runs `fn` once this process has told its listeners every event stored so far of the task: after this
   * tick's commit for its own tasks (`afterCommit`), once the change stream has caught up for another's.
   */
  afterTold(taskId: string, fn: () => void): void {
    if (!this.remote || this.runsHere(taskId)) this.afterCommit(fn);
    else this.remote.caughtUp().then(fn, fn);
  }

  /** Cluster mode: where this process learns of the tasks other processes run. */
  attachRemote(remote: RemoteTasks): void {
    this.remote = remote;
  }

  /**
   * An event another hub process committed, for this process's listeners: the task's own and the `remote`
   * ones. Ignored for a task this process runs (it tells its own).
   */
  tellRemote(event: TaskEvent): void {
    if (this.active.has(event.taskId)) return;
    const set = this.taskListeners.get(event.taskId);
    if (set) for (const fn of [...set]) fn(event);
    for (const fn of this.remoteEventListeners) fn(event);
  }

  /** A status change another hub process committed, for the `remote` summary listeners. */
  tellRemoteSummary(summary: TaskSummary): void {
    if (this.active.has(summary.id)) return;
    for (const fn of this.remoteSummaryListeners) fn(summary);
  }

  /** Whether this process runs the task or ran it lately (it tells its events itself). */
  private runsHere(taskId: string): boolean {
    return this.active.has(taskId) || this.log.uncommitted(taskId) !== undefined || this.recent.has(taskId);
  }

  async counts(): Promise<Record<string, number>> {
    this.assertAvailable();
    await this.log.flush();
    return this.reading(() => this.store.countByStatus());
  }

  async close(): Promise<void> {
    await this.log.close();
  }

  /** A store read; a store that cannot be reached is the clear `store_unavailable`, not a stack trace. */
  private async reading<T>(fn: () => Awaitable<T>): Promise<T> {
    this.assertAvailable();
    try {
      return await fn();
    } catch (err) {
      if (err instanceof HubError) throw err;
      if (this.store.available === false)
        throw new HubError('store_unavailable', 'the task store cannot be reached; try again shortly');
      throw err;
    }
  }

  /**
   * One line per task at info, when it ends (with how long it took); every other transition at debug only,
   * so the dispatch hot path costs no log I/O at the default level.
   */
  private logTransition(task: Task, reason: StatusReason): void {
    const end = isTerminal(task.status);
    if (!end && !this.logger.isLevelEnabled('debug')) return;
    const line = {
      taskId: task.id,
      traceId: task.traceId,
      kind: task.kind,
      status: task.status,
      reason,
      attempt: task.attempts,
      extensionId: task.extensionId,
      ...(end ? { durationMs: Date.parse(task.endedAt ?? task.updatedAt) - Date.parse(task.createdAt) } : {}),
    };
    if (end) this.taskLines.info(line, `task ${task.status}`);
    else this.logger.debug(line, `task ${task.status}`);
  }

  private emitStatus(task: Task, reason: StatusReason, message?: string): void {
    const data: EventDataOf<'status'> = { status: task.status, reason };
    if (message) data.message = message;
    if (task.extensionId) data.extensionId = task.extensionId;
    if (task.attempts) data.attempt = task.attempts;
    const event = this.record(task, 'status', data);
    this.log.touch(task);
    this.log.requireCommit();
    this.deliver(event);
    const summary = summaryOf(task);
    this.log.afterCommit(() => {
      for (const fn of this.summaryListeners) fn(summary);
    });
  }

  private push<T extends EventType>(task: Task, type: T, data: EventDataOf<T>): TaskEvent {
    const event = this.record(task, type, data);
    // A queued task's latest reason for waiting is part of it, so a list or a page opened later shows it.
    if (event.type === 'log' && event.data.waiting && task.status === 'queued') {
      task.waiting = { reason: event.data.waiting, message: event.data.message.replace(/^waiting: /, '') };
      this.log.touch(task);
    }
    this.deliver(event);
    return event;
  }

  /** Broadcasts now, or after the commit while a barrier is up (then later events queue behind it, in order). */
  private deliver(event: TaskEvent): void {
    if (!this.log.holding) {
      this.broadcast(event);
      return;
    }
    const h = this.held.get(event.taskId);
    if (h) h.count += 1;
    else this.held.set(event.taskId, { first: event.seq, count: 1 });
    this.log.afterCommit(() => {
      const mine = this.held.get(event.taskId);
      if (mine) {
        mine.count -= 1;
        mine.first = event.seq + 1;
        if (mine.count === 0) this.held.delete(event.taskId);
      }
      this.broadcast(event);
    });
  }

  private record<T extends EventType>(task: Task, type: T, data: EventDataOf<T>): TaskEvent {
    task.lastSeq += 1;
    const event = {
      taskId: task.id,
      seq: task.lastSeq,
      ts: new Date().toISOString(),
      type,
      data,
    } as TaskEvent;
    this.log.append(event);
    return event;
  }

  private broadcast(event: TaskEvent): void {
    const set = this.taskListeners.get(event.taskId);
    if (set) for (const fn of [...set]) fn(event);
    for (const fn of this.eventListeners) fn(event);
  }
}

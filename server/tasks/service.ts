import { HubError } from '../errors.js';
import type { Logger } from '../log.js';
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
import { assertTransition } from './state-machine.js';
import type { TaskStore } from './store.js';

export interface NewTask {
  kind: TaskKind;
  input: Record<string, unknown>;
  target?: Target;
  timeoutMs: number;
  maxAttempts: number;
  traceId?: string | undefined;
  parentId?: string | undefined;
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

const SUMMARY_KEYS = Object.keys(TaskSummarySchema.shape) as Array<keyof TaskSummary>;

/** The list-view fields of a task (the contract's TaskSummary), without input or result. */
export function summaryOf(t: Task): TaskSummary {
  const summary = Object.fromEntries(
    SUMMARY_KEYS.filter((k) => k !== 'name').map((k) => [k, t[k as keyof Task]]),
  ) as TaskSummary;
  const name = t.input['workflow'] ?? t.input['tool'];
  if (typeof name === 'string') summary.name = name;
  return summary;
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
  /** Per task, events recorded but held behind a commit barrier: replay stops before the first of them. */
  private readonly held = new Map<string, { first: number; count: number }>();
  readonly log: EventLog;

  constructor(
    readonly store: TaskStore,
    private readonly logger: Logger,
  ) {
    this.log = new EventLog(store, (err) => this.logger.error({ err }, 'task listener failed'));
    for (const t of store.tasksWithStatus(['queued', 'dispatched', 'running'])) this.active.set(t.id, t);
  }

  create(spec: NewTask): Task {
    const now = new Date().toISOString();
    const task: Task = {
      id: newTaskId(),
      kind: spec.kind,
      status: 'queued',
      target: spec.target ?? {},
      parentId: spec.parentId ?? null,
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

  get(id: string): Task | null {
    const live = this.active.get(id) ?? this.log.uncommitted(id);
    return live ? { ...live } : this.store.getTask(id);
  }

  /**
   * Runs `fn` once every change made so far is on disk: at once, or right after this tick's commit. Whatever
   * tells a client about a task (an ack, a reply, a job sent to a host) goes through here.
   */
  afterCommit(fn: () => void): void {
    this.log.afterCommit(fn);
  }

  require(id: string): Task {
    const t = this.get(id);
    if (!t) throw new HubError('not_found', `no task with id ${id}`, { field: 'taskId' });
    return t;
  }

  activeTasks(): Task[] {
    return [...this.active.values()].map((t) => ({ ...t }));
  }

  list(query: TaskListQuery): TaskPage {
    const q = TaskListQuerySchema.parse(query);
    this.log.flush();
    let before: { createdAt: string; id: string } | undefined;
    if (q.cursor) {
      const [createdAt, id] = Buffer.from(q.cursor, 'base64url').toString('utf8').split('|');
      if (!createdAt || !id)
        throw new HubError('bad_request', 'cursor: not a cursor this hub gave out', { field: 'cursor' });
      before = { createdAt, id };
    }
    const rows = this.store.listTasks({
      status: q.status,
      kind: q.kind,
      extensionId: q.extensionId,
      parentId: q.parentId,
      limit: q.limit + 1,
      before,
    });
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
      const stored = this.get(taskId);
      if (!stored) throw new HubError('not_found', `no task with id ${taskId}`);
      assertTransition(taskId, stored.status, to);
      throw new HubError('conflict', `task ${taskId} is not active`);
    }
    assertTransition(taskId, task.status, to);
    const now = new Date().toISOString();
    task.status = to;
    task.updatedAt = now;
    if (patch.attempts !== undefined) task.attempts = patch.attempts;
    if (patch.extensionId !== undefined) task.extensionId = patch.extensionId;
    if (to === 'running' && !task.startedAt) task.startedAt = now;
    if (patch.result !== undefined) task.result = patch.result;
    if (patch.error !== undefined) task.error = patch.error;
    if (isTerminal(to)) task.endedAt = now;
    this.logTransition(task, reason);
    this.emitStatus(task, reason, patch.message);
    if (isTerminal(to)) this.active.delete(taskId);
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

  /** Events with seq > afterSeq: what a subscriber must be sent before live ones. */
  replay(taskId: string, afterSeq: number): TaskEvent[] {
    const events = this.log.read(taskId, afterSeq);
    const held = this.held.get(taskId);
    return held ? events.filter((e) => e.seq < held.first) : events;
  }

  /**
   * One page of the replay: at most `limit` events (and about `maxBytes`) with seq > afterSeq; `more` when the
   * backlog goes on past them. When `more` is false, the caller must start watching in this same tick.
   */
  replayPage(
    taskId: string,
    afterSeq: number,
    limit: number,
    maxBytes?: number,
  ): { events: TaskEvent[]; more: boolean } {
    const read = this.log.read(taskId, afterSeq, limit, maxBytes);
    const held = this.held.get(taskId);
    const events = (held ? read.filter((e) => e.seq < held.first) : read).slice(0, limit);
    const upTo = held ? held.first - 1 : (this.get(taskId)?.lastSeq ?? 0);
    const last = events.at(-1)?.seq ?? afterSeq;
    return { events, more: events.length > 0 && last < upTo };
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

  onEvent(fn: EventListener): () => void {
    this.eventListeners.add(fn);
    return () => this.eventListeners.delete(fn);
  }

  onSummary(fn: SummaryListener): () => void {
    this.summaryListeners.add(fn);
    return () => this.summaryListeners.delete(fn);
  }

  counts(): Record<string, number> {
    this.log.flush();
    return this.store.countByStatus();
  }

  close(): void {
    this.log.close();
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
    if (end) this.logger.info(line, `task ${task.status}`);
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

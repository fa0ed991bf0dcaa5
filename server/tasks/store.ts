import type { Task, TaskEvent, TaskListQuery, TaskStatus } from '../protocol/tasks.js';

export interface TaskFilter {
  status?: TaskStatus | undefined;
  kind?: Task['kind'] | undefined;
  extensionId?: string | undefined;
  parentId?: string | undefined;
  limit: number;
  /** Return tasks created before this (createdAt, id) pair: newest first paging. */
  before?: { createdAt: string; id: string } | undefined;
}

/** A value now (SQLite, memory) or later (Redis). */
export type Awaitable<T> = T | Promise<T>;

/** Everything one tick changed: written in one transaction (group commit). */
export interface CommitBatch {
  inserts: readonly Task[];
  events: readonly TaskEvent[];
  updates: readonly Task[];
}

/**
 * Where tasks and their events live. Drivers: SQLite (default, durable), memory (tests, throwaway hubs) and
 * Redis (`SWITCHBOARD_REDIS_URL`, shared by several hub processes). Calls may answer at once (the embedded
 * drivers) or later (Redis): callers await them. The task service never reads the store on the hot path, and
 * `TaskService.follow` makes replay-then-live gapless whichever way the store answers.
 */
export interface TaskStore {
  /** New task rows, events and changed task rows, all or nothing. */
  commit(batch: CommitBatch): Awaitable<void>;
  getTask(id: string): Awaitable<Task | null>;
  /** The same, answered at once: drivers that can (the embedded ones) give it, for live-state lookups. */
  getTaskSync?(id: string): Task | null;
  listTasks(filter: TaskFilter): Awaitable<Task[]>;
  tasksWithStatus(statuses: readonly TaskStatus[]): Awaitable<Task[]>;
  appendEvents(events: readonly TaskEvent[]): Awaitable<void>;
  /**
   * Events of a task with seq > afterSeq, in seq order, at most `limit`, and stopping after the event that
   * takes the total past `maxBytes` (of stored JSON) so a page of 1 MB chunks stays a page.
   */
  readEvents(taskId: string, afterSeq: number, limit?: number, maxBytes?: number): Awaitable<TaskEvent[]>;
  countByStatus(): Awaitable<Record<string, number>>;
  /** False while the store cannot be reached (Redis down): new work is refused with `store_unavailable`. */
  readonly available?: boolean;
  close(): Awaitable<void>;
}

export type TaskListQueryParsed = Omit<TaskListQuery, 'limit'> & { limit: number };

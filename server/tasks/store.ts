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

/**
 * Where tasks and their events live. Drivers: SQLite (default, durable) and memory (tests, throwaway hubs).
 * All calls are synchronous: the task service relies on a read and the following broadcast happening in one
 * tick, which is what makes replay-then-live gapless.
 */
/** Everything one tick changed: written in one transaction (group commit). */
export interface CommitBatch {
  inserts: readonly Task[];
  events: readonly TaskEvent[];
  updates: readonly Task[];
}

export interface TaskStore {
  /** New task rows, events and changed task rows, all or nothing. */
  commit(batch: CommitBatch): void;
  insertTask(task: Task): void;
  updateTask(task: Task): void;
  getTask(id: string): Task | null;
  listTasks(filter: TaskFilter): Task[];
  tasksWithStatus(statuses: readonly TaskStatus[]): Task[];
  appendEvents(events: readonly TaskEvent[]): void;
  /**
   * Events of a task with seq > afterSeq, in seq order, at most `limit`, and stopping after the event that
   * takes the total past `maxBytes` (of stored JSON) so a page of 1 MB chunks stays a page.
   */
  readEvents(taskId: string, afterSeq: number, limit?: number, maxBytes?: number): TaskEvent[];
  countByStatus(): Record<string, number>;
  close(): void;
}

export type TaskListQueryParsed = Omit<TaskListQuery, 'limit'> & { limit: number };

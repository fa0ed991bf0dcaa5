import type { Task } from '../protocol/tasks.js';
import type { ExtensionRecord } from './registry.js';

/**
 * What the dispatcher asks of the cluster (server/cluster) when several hub processes share Redis. Absent in
 * the embedded hub: every hook is behind `dispatcher.cluster?.`, so the one-process path is unchanged.
 */
export interface DispatchCluster {
  /** Whether a host on another process could take this queued task now (free slot, matching target). */
  placeableElsewhere(task: Task): boolean;
  /**
   * Hands a queued task this process has just forgotten (`tasks.release`) to the shared queue, where a
   * process with a free matching host claims it. `waiting` is the last reason its followers were told.
   */
  offer(task: Task, waiting: string | undefined): void;
  /** Local hosts may have free slots: claim work from the shared queue. */
  capacity(): void;
  /** Cancels a task this process does not hold: claimed from the shared queue, or asked of its owner. */
  cancel(taskId: string): Promise<Task>;
  /**
   * A host registered here says it runs a job this process does not hold: take it over from the process that
   * dispatched it (it lets go, or it died), or stop it on the host when that cannot be.
   */
  reclaim(record: ExtensionRecord, taskId: string): void;
  /** While `reclaim` of this job is under way: keeps a report of the host's for after it, and says true. */
  defer(record: ExtensionRecord, taskId: string, again: () => void): boolean;
}

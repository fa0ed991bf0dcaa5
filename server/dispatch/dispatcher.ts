import type { HubConfig } from '../config.js';
import { HubError } from '../errors.js';
import type { Logger } from '../log.js';
import type { JobResult, JobRun } from '../protocol/extension.js';
import { isTerminal, type Task, type TaskKind } from '../protocol/tasks.js';
import type { TaskService } from '../tasks/service.js';
import type { DispatchCluster } from './cluster-hooks.js';
import { Deadlines } from './deadlines.js';
import type { ExtensionRecord, ExtensionRegistry } from './registry.js';
import { whyWaiting } from './waiting.js';

type JobResultParsed = Omit<JobResult, 'result'> & { result?: unknown };

/**
 * Routes queued code tasks to hosts with a free slot, and turns what hosts report (started, output, result,
 * loss) into task transitions. Timeouts and cancels are sent to the host and end the task at once; the
 * host's slot is freed when it confirms (its `job:result`): a host that does not confirm within the cancel
 * grace period, or says the job will not stop (`job:stuck`), shows as stuck and keeps the slot busy.
 */
export class Dispatcher {
  private readonly queue: string[] = [];
  private readonly deadlines: Deadlines;
  /** The last reason told to each queued task that could not be placed (told again only when it changes). */
  private readonly waitingWhy = new Map<string, string>();
  private readonly graceTimers = new Map<string, NodeJS.Timeout>();
  /** Jobs of hosts whose connection dropped, kept for them during the reconnect grace period. */
  private readonly orphans = new Map<string, { tasks: Set<string>; timer: NodeJS.Timeout; why: string }>();
  private readonly cancellers = new Map<TaskKind, (taskId: string) => Task>();
  private pumpScheduled = false;
  private closed = false;
  /** Cluster mode only (SWITCHBOARD_REDIS_URL): the shared queue and the other processes' hosts. */
  cluster: DispatchCluster | undefined;

  constructor(
    private readonly tasks: TaskService,
    private readonly registry: ExtensionRegistry,
    private readonly config: HubConfig,
    private readonly logger: Logger,
  ) {
    this.deadlines = new Deadlines(tasks, (taskId) => this.timeOut(taskId));
  }

  /** After a restart: jobs that were out on hosts are lost; requeue or fail them per their retry budget. */
  recover(): void {
    this.recoverTasks(this.tasks.activeTasks());
  }

  /** `recover` for the given unfinished tasks (all of them at start, or a dead cluster process's ones). */
  recoverTasks(active: readonly Task[]): void {
    for (const task of active) {
      if (task.kind !== 'code') {
        // Workflows run inside the hub: whatever was in flight died with it.
        this.tasks.finish(task.id, 'failed', {
          reason: 'hub_restarted',
          error: { code: 'hub_restarted', message: 'the hub restarted while the task was running' },
        });
      } else if (task.status === 'queued') this.queue.push(task.id);
      else this.lose(task, 'hub_restarted', 'the hub restarted while the task was out on an extension');
    }
    // Deadlines count from submission, so time spent before and during the restart counts too.
    for (const { id } of active) {
      const task = this.tasks.live(id);
      if (task?.kind === 'code' && !isTerminal(task.status)) this.deadlines.arm(task);
    }
    this.schedulePump();
  }

  /**
   * Lets another subsystem own cancellation of its kind of task (workflows abort their model streams, tools
   * and child tasks, then end the task themselves).
   */
  registerCanceller(kind: Exclude<TaskKind, 'code'>, cancel: (taskId: string) => Task): void {
    this.cancellers.set(kind, cancel);
  }

  /** Queues a code task that was just created. */
  enqueue(task: Task): void {
    this.deadlines.arm(task);
    this.queue.push(task.id);
    this.schedulePump();
  }

  /** Cancels a task, wherever it is; a task this process does not hold is read from the store first. */
  async cancel(taskId: string): Promise<Task> {
    if (!this.tasks.live(taskId)) {
      if (this.cluster) return this.cluster.cancel(taskId);
      await this.tasks.require(taskId);
    }
    return this.cancelLive(taskId);
  }

  /** `cancel` for a task this process holds (unfinished or ended lately), at once. */
  cancelLive(taskId: string): Task {
    const task = this.tasks.live(taskId);
    if (!task) {
      // Another process holds it: asked there, answered later (callers here only need it stopped).
      if (this.cluster)
        this.cluster.cancel(taskId).catch((err: unknown) => this.logger.debug({ err, taskId }, 'cancel'));
      throw new HubError('not_found', `no task with id ${taskId}`, { field: 'taskId' });
    }
    if (isTerminal(task.status))
      throw new HubError('task_finished', `task ${taskId} already ended ${task.status}`);
    const owner = task.kind === 'code' ? undefined : this.cancellers.get(task.kind);
    if (owner) return owner(taskId);
    this.removeFromQueue(taskId);
    if (task.kind === 'code' && task.extensionId && task.status !== 'queued') {
      this.stopOnHost(task, 'cancelled');
    }
    return this.tasks.finish(taskId, 'cancelled', { reason: 'cancelled', message: 'cancelled by request' });
  }

  /**
   * A host registered. Jobs it says it still runs stay its own if they were waiting for it (lost connection
   * within the grace period); a job it runs that the hub has ended or given to another host is stopped.
   */
  hostOnline(record: ExtensionRecord, claimed: readonly string[]): void {
    const id = record.info.id;
    const orphans = this.orphans.get(id);
    for (const taskId of claimed) {
      const t = this.tasks.live(taskId);
      if (t && !isTerminal(t.status) && t.extensionId === id) {
        record.running.add(taskId);
        orphans?.tasks.delete(taskId);
      } else if (!t && this.cluster) {
        // Dispatched by another process (gone, or the host's connection moved here): taken over if it can be.
        this.cluster.reclaim(record, taskId);
      } else {
        record.link.cancelJob({ taskId, reason: t?.status === 'timed_out' ? 'timed_out' : 'cancelled' });
      }
    }
    if (orphans) {
      clearTimeout(orphans.timer);
      this.orphans.delete(id);
      this.loseAll(orphans.tasks, id, `${orphans.why} and came back without the job`);
    }
    this.registry.changed(record);
    this.schedulePump();
  }

  /**
   * The host's connection is gone. After `graceMs` (or at once) its jobs go back to the queue or fail, per
   * their retry budget; a host that registers again within the grace period and still runs them keeps them.
   */
  hostLost(record: ExtensionRecord, why: string, graceMs = 0): void {
    // Hosts dropped while the hub closes: restart recovery settles their jobs, no timer may outlive the store.
    if (this.closed) return;
    const id = record.info.id;
    const tasks = new Set(record.running);
    record.running.clear();
    record.stuck?.clear();
    if (graceMs > 0 && tasks.size > 0) {
      const previous = this.orphans.get(id);
      if (previous) {
        clearTimeout(previous.timer);
        for (const t of previous.tasks) tasks.add(t);
      }
      const timer = setTimeout(() => {
        if (this.orphans.get(id)?.timer !== timer) return;
        this.orphans.delete(id);
        this.loseAll(tasks, id, `${why} and did not come back within ${graceMs / 1000}s`);
      }, graceMs);
      this.orphans.set(id, { tasks, timer, why });
      return;
    }
    this.loseAll(tasks, id, why);
  }

  private loseAll(taskIds: Iterable<string>, extensionId: string, why: string): void {
    for (const taskId of taskIds) {
      const t = this.tasks.live(taskId);
      if (!t || isTerminal(t.status) || t.extensionId !== extensionId) continue;
      this.clearTimers(taskId);
      this.lose(t, 'extension_lost', `extension ${extensionId} ${why}`);
    }
    this.schedulePump();
  }

  jobStarted(record: ExtensionRecord, taskId: string, attempt?: number): void {
    if (this.cluster?.defer(record, taskId, () => this.jobStarted(record, taskId, attempt))) return;
    const t = this.owned(record, taskId, attempt);
    if (t && t.status === 'dispatched') this.tasks.transition(taskId, 'running', 'started');
  }

  jobOutput(
    record: ExtensionRecord,
    taskId: string,
    stream: 'stdout' | 'stderr',
    text: string,
    attempt?: number,
  ): void {
    if (this.cluster?.defer(record, taskId, () => this.jobOutput(record, taskId, stream, text, attempt)))
      return;
    const t = this.owned(record, taskId, attempt);
    if (!t || isTerminal(t.status)) return; // late output of a stopped job: dropped on purpose
    if (t.status === 'dispatched') this.tasks.transition(taskId, 'running', 'started');
    this.tasks.append(taskId, 'output', { stream, text });
  }

  jobResult(record: ExtensionRecord, res: JobResultParsed): void {
    if (this.cluster?.defer(record, res.taskId, () => this.jobResult(record, res))) return;
    const t = this.owned(record, res.taskId, res.attempt);
    if (!t) return; // a replaced attempt: the slot belongs to the attempt that replaced it
    this.release(record, res.taskId);
    if (!t || isTerminal(t.status)) return;
    // A folded report (`result-report`): the start and the output the host held back, then the end, all in
    // this tick and so in one commit.
    if (t.status === 'dispatched' && res.output) this.tasks.transition(t.id, 'running', 'started');
    for (const o of res.output ?? []) if (o.text) this.tasks.append(t.id, 'output', o);
    const base = res.error?.type ? `${res.error.type}: ` : '';
    const message = res.error ? `${res.error.message.startsWith(base) ? '' : base}${res.error.message}` : '';
    const traceback = res.error?.traceback;
    switch (res.status) {
      case 'succeeded':
        this.tasks.finish(t.id, 'succeeded', { result: res.result ?? null, reason: 'completed' });
        break;
      case 'failed':
        this.tasks.finish(t.id, 'failed', {
          reason: 'error',
          error: {
            code: 'execution_failed',
            message: message || 'the code failed',
            ...(traceback ? { traceback } : {}),
          },
        });
        break;
      default:
        this.tasks.finish(t.id, res.status, {
          reason: res.status,
          error: { code: res.status, message: message || `the extension stopped the job (${res.status})` },
        });
    }
  }

  private reportInAck(host: ExtensionRecord, res: JobResultParsed): void {
    try {
      this.jobResult(host, res);
    } catch (err) {
      // The task moved on meanwhile (given to another host): the report is stale, as a late job:result is.
      this.logger.debug({ err, taskId: res.taskId }, 'report in job:run ack ignored');
    }
  }

  /** The host says a job it was told to stop will not stop: its slot stays taken until the result comes. */
  jobStuck(record: ExtensionRecord, taskId: string, attempt?: number): void {
    if (this.cluster?.defer(record, taskId, () => this.jobStuck(record, taskId, attempt))) return;
    if (!this.owned(record, taskId, attempt) || !record.running.has(taskId)) return;
    this.logger.warn({ taskId, extensionId: record.info.id }, 'host reports a job that will not stop');
    this.markStuck(record, taskId);
  }

  /** The host's user paused or resumed it; a paused host is skipped by the pump. */
  hostPaused(record: ExtensionRecord, paused: boolean): void {
    record.info.paused = paused;
    this.registry.changed(record);
    if (!paused) this.schedulePump();
  }

  private markStuck(host: ExtensionRecord, taskId: string): void {
    const g = this.graceTimers.get(taskId);
    if (g) clearTimeout(g);
    this.graceTimers.delete(taskId);
    host.stuck?.add(taskId);
    this.registry.changed(host);
  }

  queuedCount(): number {
    return this.queue.length;
  }

  close(): void {
    this.closed = true;
    this.deadlines.close();
    for (const t of this.graceTimers.values()) clearTimeout(t);
    for (const o of this.orphans.values()) clearTimeout(o.timer);
    this.orphans.clear();
    this.graceTimers.clear();
  }

  /** The task a host reports on, checked to be its own; null for a report on an attempt since replaced. */
  private owned(record: ExtensionRecord, taskId: string, attempt?: number): Task | null {
    const t = this.tasks.live(taskId);
    if (!t) throw new HubError('not_found', `no task with id ${taskId}`, { field: 'taskId' });
    if (t.extensionId !== record.info.id) {
      throw new HubError('forbidden', `task ${taskId} is not assigned to extension ${record.info.id}`, {
        field: 'taskId',
      });
    }
    return attempt !== undefined && attempt !== t.attempts ? null : t;
  }

  private lose(task: Task, reason: 'extension_lost' | 'hub_restarted', message: string): void {
    if (task.attempts < task.maxAttempts) {
      this.tasks.transition(task.id, 'queued', reason, {
        message: `${message}; retrying`,
        extensionId: null,
      });
      this.queue.unshift(task.id);
      return;
    }
    this.tasks.finish(task.id, 'failed', {
      reason,
      error: { code: reason, message: `${message} (attempt ${task.attempts} of ${task.maxAttempts})` },
    });
  }

  /** Runs the pump soon (once per tick however often asked). */
  schedulePump(): void {
    if (this.pumpScheduled || this.closed) return;
    this.pumpScheduled = true;
    queueMicrotask(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    for (let i = 0; i < this.queue.length; ) {
      const taskId = this.queue[i]!;
      const task = this.tasks.live(taskId);
      if (task?.status !== 'queued') {
        this.queue.splice(i, 1);
        this.waitingWhy.delete(taskId);
        continue;
      }
      const host = this.pickHost(task);
      if (!host && this.cluster?.placeableElsewhere(task)) {
        this.queue.splice(i, 1);
        this.handOff(task);
        continue;
      }
      if (!host) {
        this.noteWaiting(task);
        i += 1;
        continue;
      }
      this.queue.splice(i, 1);
      this.waitingWhy.delete(taskId);
      this.dispatch(task, host);
    }
    this.cluster?.capacity();
  }

  /** Cluster: a queued task goes to the shared queue; from now on another process may write its events. */
  private handOff(task: Task): void {
    const waiting = this.waitingWhy.get(task.id);
    this.waitingWhy.delete(task.id);
    this.deadlines.clear(task.id);
    this.tasks.release(task.id);
    this.cluster?.offer(task, waiting);
  }

  /**
   * Cluster: a job its host still runs, which another process dispatched (that process died, or the host's
   * connection moved here): this process holds it from now on, continuing its stored seq.
   */
  attachRunning(record: ExtensionRecord, task: Task): void {
    this.tasks.adopt(task);
    this.deadlines.arm(task);
    if (!this.registry.isCurrent(record)) {
      this.loseAll([task.id], record.info.id, 'went away while its job was taken over');
      return;
    }
    record.running.add(task.id);
    this.registry.changed(record);
  }

  /**
   * Cluster: the host running this job now talks to another process, which takes it over. False when this
   * process cannot let it go (the host is still connected here, or the job is no longer out on it).
   */
  letGo(taskId: string, extensionId: string): boolean {
    const t = this.tasks.live(taskId);
    if (!t || isTerminal(t.status) || t.status === 'queued' || t.extensionId !== extensionId) return false;
    if (this.registry.get(extensionId)?.running.has(taskId)) return false;
    this.orphans.get(extensionId)?.tasks.delete(taskId);
    this.clearTimers(taskId);
    this.deadlines.clear(taskId);
    this.tasks.release(taskId);
    return true;
  }

  /**
   * Cluster: a queued task this process claimed from the shared queue (its row read from the store). It is
   * placed on a local host, or ended at once when it was claimed to be timed out or cancelled.
   */
  takeQueued(task: Task, then: 'dispatch' | 'timeout' | 'cancel', waiting?: string): Task {
    this.tasks.adopt(task);
    if (waiting) this.waitingWhy.set(task.id, waiting);
    if (then === 'timeout') {
      this.timeOut(task.id);
      return this.tasks.requireLive(task.id);
    }
    if (then === 'cancel') return this.cancelLive(task.id);
    this.deadlines.arm(task);
    this.queue.unshift(task.id);
    this.schedulePump();
    return task;
  }

  private pickHost(task: Task): ExtensionRecord | null {
    let best: ExtensionRecord | null = null;
    for (const r of this.registry.all()) {
      if (r.running.size >= r.info.concurrency || r.info.paused) continue;
      if (task.target.extensionId && r.info.id !== task.target.extensionId) continue;
      if (task.target.label && !r.info.labels.includes(task.target.label)) continue;
      if (!best || r.running.size < best.running.size) best = r;
    }
    return best;
  }

  private dispatch(task: Task, host: ExtensionRecord): void {
    const attempt = task.attempts + 1;
    this.tasks.transition(task.id, 'dispatched', 'dispatched', {
      extensionId: host.info.id,
      attempts: attempt,
    });
    host.running.add(task.id);
    this.registry.changed(host);
    const job: JobRun = {
      taskId: task.id,
      code: String(task.input['code'] ?? ''),
      // What is left of the task's deadline: time spent queued counts, so the host stops it in time.
      timeoutMs: this.deadlines.remaining(task),
      attempt,
      traceId: task.traceId,
    };
    // Sent once `dispatched` is on disk (end of this tick's group commit).
    this.tasks.afterCommit(() =>
      host.link.runJob(job).then(
        (ack) => {
          if (!ack.accepted) this.rejected(host, task.id, ack.reason ?? 'the extension refused the job');
          // `result-report`: the job ended before the host answered; the ack is its whole report.
          else if (ack.report) this.reportInAck(host, { ...ack.report, taskId: task.id });
        },
        (err: unknown) => this.rejected(host, task.id, `the extension did not ack the job: ${String(err)}`),
      ),
    );
  }

  private rejected(host: ExtensionRecord, taskId: string, why: string): void {
    this.release(host, taskId);
    const t = this.tasks.live(taskId);
    if (t?.status !== 'dispatched' || t.extensionId !== host.info.id) return;
    this.clearTimers(taskId);
    this.logger.warn({ taskId, extensionId: host.info.id, why }, 'job refused by extension');
    this.tasks.transition(taskId, 'queued', 'extension_rejected', {
      message: why,
      extensionId: null,
      attempts: Math.max(0, t.attempts - 1),
    });
    this.queue.unshift(taskId);
    // A host that refuses is retried after a pause, not in a tight loop.
    setTimeout(() => this.schedulePump(), 250).unref();
  }

  /** Ends a task as timed out wherever it is (queue or host): its deadline passed. */
  private timeOut(taskId: string): void {
    const t = this.tasks.live(taskId);
    if (!t || isTerminal(t.status)) return;
    const waited = t.status === 'queued' ? this.waitingWhy.get(taskId) : undefined;
    this.removeFromQueue(taskId);
    if (t.status !== 'queued') this.stopOnHost(t, 'timed_out');
    const limit = `its timeout of ${t.timeoutMs / 1000}s`;
    this.tasks.finish(taskId, 'timed_out', {
      reason: 'timed_out',
      error: {
        code: 'timed_out',
        message:
          t.status === 'queued'
            ? `no extension took the task within ${limit}${waited ? `: ${waited}` : ''}`
            : `the task ran past ${limit}`,
      },
    });
  }

  /** Tells a queued task why it waits, once per change of reason: its followers see it in its events. */
  private noteWaiting(task: Task): void {
    const why = whyWaiting(task, this.registry);
    if (this.waitingWhy.get(task.id) === why.message) return;
    this.waitingWhy.set(task.id, why.message);
    this.tasks.append(task.id, 'log', {
      level: 'info',
      message: `waiting: ${why.message}`,
      waiting: why.reason,
    });
  }

  /** Tells the host to stop the job; its slot stays taken until it confirms or the grace period ends. */
  private stopOnHost(task: Task, reason: 'cancelled' | 'timed_out'): void {
    this.clearTimers(task.id);
    const host = task.extensionId ? this.registry.get(task.extensionId) : undefined;
    if (!host?.running.has(task.id)) return;
    host.link.cancelJob({ taskId: task.id, reason });
    this.graceTimers.set(
      task.id,
      setTimeout(() => {
        this.graceTimers.delete(task.id);
        // Freeing the slot now would send work to a host that may still be busy with this job.
        this.logger.warn(
          { taskId: task.id, extensionId: host.info.id },
          'host did not confirm stop; slot kept until it does',
        );
        this.markStuck(host, task.id);
      }, this.config.cancelGraceMs),
    );
  }

  private release(host: ExtensionRecord, taskId: string): void {
    this.clearTimers(taskId);
    host.stuck?.delete(taskId);
    if (host.running.delete(taskId)) {
      this.registry.changed(host);
      this.schedulePump();
    }
  }

  /** Clears the stop grace timer; the deadline is not a timer of the dispatcher's (see Deadlines). */
  private clearTimers(taskId: string): void {
    const g = this.graceTimers.get(taskId);
    if (g) clearTimeout(g);
    this.graceTimers.delete(taskId);
  }

  private removeFromQueue(taskId: string): void {
    const i = this.queue.indexOf(taskId);
    if (i >= 0) this.queue.splice(i, 1);
    this.waitingWhy.delete(taskId);
  }
}

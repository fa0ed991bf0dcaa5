import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { HubContext } from '../context.js';
import { TaskStatus, type TaskSummary } from '../protocol/tasks.js';
import { ExtensionStates } from './extension-states.js';

/** Task duration buckets, seconds: sub-second code snippets up to half-hour workflows. */
export const DURATION_BUCKETS = [
  0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800,
];
const STATES = ['idle', 'busy', 'stuck', 'paused', 'offline'] as const;
const FAILED = new Set(['failed', 'timed_out']);

export type SocketCounts = () => Record<string, number>;

/**
 * The hub's Prometheus metrics (prom-client): default process metrics, task counters and duration histograms
 * fed by the task summary feed, and gauges read at scrape time. The overview sampler reads the same objects.
 */
export class HubMetrics {
  readonly registry = new Registry();
  readonly extensions: ExtensionStates;
  readonly created: Counter<'kind'>;
  readonly started: Counter<'kind'>;
  readonly finished: Counter<'kind' | 'status'>;
  readonly failed: Counter<'kind'>;
  readonly duration: Histogram<'kind' | 'status'>;
  private readonly offs: Array<() => void> = [];

  constructor(
    private readonly ctx: HubContext,
    sockets: SocketCounts,
  ) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.extensions = new ExtensionStates(ctx.registry);
    this.created = new Counter({
      name: 'switchboard_tasks_created_total',
      help: 'Tasks created, by kind.',
      labelNames: ['kind'],
      registers,
    });
    this.started = new Counter({
      name: 'switchboard_tasks_started_total',
      help: 'Tasks that started running (first attempt), by kind.',
      labelNames: ['kind'],
      registers,
    });
    this.finished = new Counter({
      name: 'switchboard_tasks_finished_total',
      help: 'Tasks that reached a terminal status, by kind and status.',
      labelNames: ['kind', 'status'],
      registers,
    });
    this.failed = new Counter({
      name: 'switchboard_tasks_failed_total',
      help: 'Tasks that failed or timed out, by kind.',
      labelNames: ['kind'],
      registers,
    });
    this.duration = new Histogram({
      name: 'switchboard_task_duration_seconds',
      help: 'Task duration from start (or creation, if it never ran) to its end, by kind and status.',
      labelNames: ['kind', 'status'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    const events = new Counter({
      name: 'switchboard_task_events_total',
      help: 'Task events appended since start.',
      registers,
    });
    this.offs.push(
      ctx.tasks.onSummary((s) => this.onSummary(s)),
      ctx.tasks.onEvent(() => events.inc()),
    );

    new Gauge({
      name: 'switchboard_tasks',
      help: 'Tasks by status (stored).',
      labelNames: ['status'],
      registers,
      // The store may be remote (Redis): prom-client awaits an async collect.
      async collect() {
        const counts = await ctx.tasks.counts();
        for (const s of TaskStatus.options) this.set({ status: s }, counts[s] ?? 0);
      },
    });
    new Gauge({
      name: 'switchboard_queue_depth',
      help: 'Code tasks waiting for an extension.',
      registers,
      collect() {
        this.set(ctx.dispatcher.queuedCount());
      },
    });
    new Gauge({
      name: 'switchboard_tasks_active',
      help: 'Tasks not finished, by status and kind.',
      labelNames: ['status', 'kind'],
      registers,
      collect() {
        this.reset();
        for (const [key, n] of activeCounts(ctx)) {
          const [status = '', kind = ''] = key.split('/');
          this.set({ status, kind }, n);
        }
      },
    });
    new Gauge({
      name: 'switchboard_extensions_online',
      help: 'Extensions connected now.',
      registers,
      collect() {
        this.set(ctx.registry.all().length);
      },
    });
    new Gauge({
      name: 'switchboard_jobs_running',
      help: 'Jobs holding an extension slot.',
      registers,
      collect() {
        this.set(ctx.registry.all().reduce((n, r) => n + r.running.size, 0));
      },
    });
    const states = this.extensions;
    new Gauge({
      name: 'switchboard_extension_load',
      help: 'Jobs holding a slot on each extension.',
      labelNames: ['extension', 'name'],
      registers,
      collect() {
        this.reset();
        for (const e of states.now()) this.set({ extension: e.id, name: e.name }, e.running);
      },
    });
    new Gauge({
      name: 'switchboard_extension_slots',
      help: 'Concurrency of each extension (0 when offline).',
      labelNames: ['extension', 'name'],
      registers,
      collect() {
        this.reset();
        for (const e of states.now()) this.set({ extension: e.id, name: e.name }, e.slots);
      },
    });
    new Gauge({
      name: 'switchboard_extension_state',
      help: 'Each extension: 1 for its current state (idle, busy, stuck, paused, offline), 0 for the others.',
      labelNames: ['extension', 'name', 'state'],
      registers,
      collect() {
        this.reset();
        for (const e of states.now())
          for (const s of STATES)
            this.set({ extension: e.id, name: e.name, state: s }, e.state === s ? 1 : 0);
      },
    });
    new Gauge({
      name: 'switchboard_socket_clients',
      help: 'Socket.IO clients connected, by namespace.',
      labelNames: ['namespace'],
      registers,
      collect() {
        for (const [ns, n] of Object.entries(sockets())) this.set({ namespace: ns }, n);
      },
    });
    new Gauge({
      name: 'switchboard_uptime_seconds',
      help: 'Seconds since the hub started.',
      registers,
      collect() {
        this.set(Math.round((Date.now() - ctx.startedAt) / 1000));
      },
    });
  }

  queueDepth(): number {
    return this.ctx.dispatcher.queuedCount();
  }

  /**
   * Unfinished tasks now, split as `switchboard_tasks_active{status}` is: `queued` (waiting to start) and
   * `running` (dispatched or running). From memory: no store read.
   */
  activeByState(): { queued: number; running: number } {
    const out = { queued: 0, running: 0 };
    for (const [key, n] of activeCounts(this.ctx)) {
      if (key.startsWith('queued/')) out.queued += n;
      else out.running += n;
    }
    return out;
  }

  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  close(): void {
    for (const off of this.offs) off();
    this.extensions.close();
    this.registry.clear();
  }

  /** Every status change of every task passes here once (after its commit). */
  private onSummary(s: TaskSummary): void {
    const kind = s.kind;
    if (s.status === 'queued' && s.updatedAt === s.createdAt && s.attempts === 0) this.created.inc({ kind });
    // startedAt is set once, on the first move to running: later attempts keep the first time.
    if (s.status === 'running' && s.startedAt === s.updatedAt) this.started.inc({ kind });
    if (s.endedAt && s.status !== 'queued' && s.status !== 'dispatched' && s.status !== 'running') {
      this.finished.inc({ kind, status: s.status });
      if (FAILED.has(s.status)) this.failed.inc({ kind });
      const from = Date.parse(s.startedAt ?? s.createdAt);
      const seconds = Math.max(0, (Date.parse(s.endedAt) - from) / 1000);
      this.duration.observe({ kind, status: s.status }, seconds);
    }
  }
}

function activeCounts(ctx: HubContext): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of ctx.tasks.activeTasks()) {
    const key = `${t.status}/${t.kind}`;
    out.set(key, (out.get(key) ?? 0) + 1);
  }
  return out;
}

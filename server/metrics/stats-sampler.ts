import type { Counter, Histogram } from 'prom-client';
import type { StatsOverview, StatsSample } from '../protocol/stats.js';
import type { HubMetrics } from './hub-metrics.js';

export const STATS_WINDOW_MS = 15 * 60_000;

/** Sum of a counter over all its label sets. */
async function total(c: Counter<string>): Promise<number> {
  return (await c.get()).values.reduce((n, v) => n + v.value, 0);
}

/** Cumulative bucket counts by upper bound, summed over all label sets (the `+Inf` bucket included). */
async function buckets(h: Histogram<string>): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (const v of (await h.get()).values) {
    if (!v.metricName?.endsWith('_bucket')) continue;
    const le = v.labels['le'];
    const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
    out.set(bound, (out.get(bound) ?? 0) + v.value);
  }
  return out;
}

/**
 * A quantile from cumulative bucket counts, interpolated linearly inside its bucket (as PromQL's
 * histogram_quantile does); null when the interval saw no observation.
 */
export function quantile(
  q: number,
  cumulative: ReadonlyArray<[bound: number, count: number]>,
): number | null {
  const sorted = [...cumulative].sort((a, b) => a[0] - b[0]);
  const count = sorted.at(-1)?.[1] ?? 0;
  if (count <= 0) return null;
  const rank = q * count;
  let prevBound = 0;
  let prevCount = 0;
  for (const [bound, c] of sorted) {
    if (c >= rank) {
      // Past the last finite bucket the best answer is that bucket's bound.
      if (!Number.isFinite(bound)) return prevBound;
      const inBucket = c - prevCount;
      return inBucket <= 0 ? bound : prevBound + (bound - prevBound) * ((rank - prevCount) / inBucket);
    }
    prevBound = bound;
    prevCount = c;
  }
  return prevBound;
}

interface Totals {
  t: number;
  started: number;
  finished: number;
  failed: number;
  buckets: Map<number, number>;
}

/**
 * Samples the metrics every `sampleMs` and keeps the last 15 minutes for `GET /api/v1/stats/overview`. Rates
 * and quantiles are the deltas of the very counters and histogram `/metrics` exposes.
 */
export class StatsSampler {
  private readonly samples: StatsSample[] = [];
  private readonly capacity: number;
  private last: Totals | null = null;
  private timer: NodeJS.Timeout | null = null;
  private busy = false;

  constructor(
    private readonly metrics: HubMetrics,
    readonly sampleMs: number,
  ) {
    this.capacity = Math.max(2, Math.ceil(STATS_WINDOW_MS / sampleMs));
  }

  start(): void {
    if (this.timer) return;
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.sampleMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  overview(since?: number): StatsOverview {
    const samples = since === undefined ? [...this.samples] : this.samples.filter((s) => s.t > since);
    return { sampleMs: this.sampleMs, windowMs: STATS_WINDOW_MS, samples };
  }

  /** Takes one sample now (the timer calls this; exported for the first sample at start). */
  async sample(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const m = this.metrics;
      const now: Totals = {
        t: Date.now(),
        started: await total(m.started),
        finished: await total(m.finished),
        failed: await total(m.failed),
        buckets: await buckets(m.duration),
      };
      const prev = this.last;
      this.last = now;
      const secs = prev ? Math.max(0.001, (now.t - prev.t) / 1000) : 1;
      const finished = prev ? now.finished - prev.finished : 0;
      const failed = prev ? now.failed - prev.failed : 0;
      const delta = [...now.buckets].map(
        ([bound, c]) => [bound, c - (prev?.buckets.get(bound) ?? 0)] as [number, number],
      );
      const p50 = prev ? quantile(0.5, delta) : null;
      const p99 = prev ? quantile(0.99, delta) : null;
      this.push({
        t: now.t,
        queueDepth: m.queueDepth(),
        ...m.activeByState(),
        startedPerSec: prev ? round((now.started - prev.started) / secs) : 0,
        finishedPerSec: prev ? round(finished / secs) : 0,
        failureRate: finished > 0 ? round(Math.min(1, failed / finished)) : null,
        p50Ms: p50 === null ? null : round(p50 * 1000),
        p99Ms: p99 === null ? null : round(p99 * 1000),
        extensions: m.extensions.now(now.t),
      });
    } finally {
      this.busy = false;
    }
  }

  private push(s: StatsSample): void {
    this.samples.push(s);
    if (this.samples.length > this.capacity) this.samples.splice(0, this.samples.length - this.capacity);
  }
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

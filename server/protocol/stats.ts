import { z } from 'zod';
import { Id } from './common.js';

/** What an extension is doing, as the overview and `/metrics` show it. */
export const ExtensionLoadState = z.enum(['idle', 'busy', 'stuck', 'paused', 'offline']);
export type ExtensionLoadState = z.infer<typeof ExtensionLoadState>;

export const ExtensionLoad = z.object({
  id: Id,
  name: z.string(),
  /** Jobs holding one of its slots. */
  running: z.number().int().min(0),
  /** Its concurrency (0 once offline). */
  slots: z.number().int().min(0),
  state: ExtensionLoadState,
});
export type ExtensionLoad = z.infer<typeof ExtensionLoad>;

/** One sample of the hub's metrics; rates and quantiles cover the interval since the previous sample. */
export const StatsSample = z.object({
  /** Epoch milliseconds. */
  t: z.number().int(),
  /** Code tasks waiting for an extension. */
  queueDepth: z.number().int().min(0),
  /** Tasks waiting to start now (status queued, all kinds); never counted in `running`. */
  queued: z.number().int().min(0),
  /** Tasks started and not finished now (status dispatched or running, all kinds). */
  running: z.number().int().min(0),
  startedPerSec: z.number().min(0),
  finishedPerSec: z.number().min(0),
  /** Failed or timed out over finished in the interval; null when none finished. */
  failureRate: z.number().min(0).max(1).nullable(),
  /** Duration quantiles of the tasks finished in the interval (from the histogram buckets); null when none. */
  p50Ms: z.number().min(0).nullable(),
  p99Ms: z.number().min(0).nullable(),
  extensions: z.array(ExtensionLoad),
});
export type StatsSample = z.infer<typeof StatsSample>;

export const StatsOverviewQuery = z
  .object({
    /** Only samples taken after this epoch-ms time (a chart that already has the rest). */
    since: z.coerce.number().int().min(0).optional(),
  })
  .strict();

export const StatsOverview = z.object({
  sampleMs: z.number().int(),
  windowMs: z.number().int(),
  samples: z.array(StatsSample),
});
export type StatsOverview = z.infer<typeof StatsOverview>;

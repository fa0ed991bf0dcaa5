import type { HubContext } from '../context.js';
import { HubMetrics, type SocketCounts } from './hub-metrics.js';
import { StatsSampler } from './stats-sampler.js';

export { HubMetrics } from './hub-metrics.js';
export { quantile, STATS_WINDOW_MS, StatsSampler } from './stats-sampler.js';

export interface HubObservability {
  metrics: HubMetrics;
  sampler: StatsSampler;
  close(): void;
}

/** The metrics registry and the overview sampler that reads it, sampling from the start. */
export function createObservability(ctx: HubContext, sockets: SocketCounts): HubObservability {
  const metrics = new HubMetrics(ctx, sockets);
  const sampler = new StatsSampler(metrics, ctx.config.statsSampleMs);
  sampler.start();
  return {
    metrics,
    sampler,
    close() {
      sampler.stop();
      metrics.close();
    },
  };
}

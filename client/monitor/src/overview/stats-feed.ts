import type { StatsOverview, StatsSample } from '../../../../server/protocol/index.js';

/** How far back the charts reach (the hub keeps the same window). */
export const WINDOW_MS = 15 * 60_000;

/**
 * Polls `GET /api/v1/stats/overview` at the hub's sample interval while the overview is shown, asking only
 * for samples newer than the last it has; keeps the last 15 minutes.
 */
export class StatsFeed {
  samples: StatsSample[] = [];
  sampleMs = 5000;
  error = '';
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;

  constructor(
    private readonly token: () => string | null,
    private readonly onUpdate: () => void,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.poll();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async poll(): Promise<void> {
    if (!this.running) return;
    const since = this.samples.at(-1)?.t;
    try {
      const token = this.token();
      const res = await fetch(`./api/v1/stats/overview${since === undefined ? '' : `?since=${since}`}`, {
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
      if (!res.ok) throw new Error(`the hub answered ${res.status}`);
      const body = (await res.json()) as StatsOverview;
      this.sampleMs = body.sampleMs;
      this.error = '';
      if (body.samples.length > 0) {
        const cutoff = Date.now() - WINDOW_MS;
        this.samples = [...this.samples, ...body.samples].filter((s) => s.t >= cutoff);
      }
    } catch (err) {
      this.error = `Stats unavailable: ${err instanceof Error ? err.message : String(err)}`;
    }
    this.onUpdate();
    // Never faster than once a second, whatever the hub's interval.
    if (this.running) this.timer = setTimeout(() => void this.poll(), Math.max(1000, this.sampleMs));
  }
}

import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { h } from '../ui/dom.js';

export interface SeriesSpec {
  label: string;
  colour: string;
  /** How a value reads in the legend and the latest-value line. */
  format?: (v: number) => string;
}

const AXIS = { stroke: '#8893a2', grid: { stroke: '#262e38', width: 1 }, ticks: { stroke: '#262e38' } };

/**
 * One live time-series chart (uPlot: canvas, small, fast with thousands of points), sized to its card.
 * `data-points`, `data-last` and `data-max` on the card say what it shows (for tests); the latest values are
 * also written out as text, for people and screen readers.
 */
export class LiveChart {
  readonly element: HTMLElement;
  private readonly plotHost: HTMLElement;
  private readonly latest: HTMLElement;
  private plot: uPlot | null = null;
  private data: uPlot.AlignedData;
  private readonly resize = new ResizeObserver(() => this.fit());

  constructor(
    readonly id: string,
    title: string,
    private readonly series: SeriesSpec[],
    private readonly opts: { unit?: string; min?: number; max?: number; legend?: boolean } = {},
  ) {
    this.plotHost = h('div', { class: 'chart-plot' });
    this.latest = h('div', { class: 'chart-latest muted' }, 'no samples yet');
    this.element = h(
      'section',
      { class: 'chart-card', 'data-testid': `chart-${id}`, 'data-points': '0' },
      h('h3', null, title, opts.unit ? h('span', { class: 'muted' }, ` (${opts.unit})`) : null),
      this.latest,
      this.plotHost,
    );
    this.data = [[], ...series.map(() => [])];
  }

  /** Replaces the data: `xs` in epoch ms, one array per series (null = no value then). */
  setData(xs: number[], ys: Array<Array<number | null>>): void {
    this.data = [xs.map((t) => t / 1000), ...ys] as uPlot.AlignedData;
    if (this.plot) this.plot.setData(this.data);
    else if (this.element.isConnected) this.create();
    this.element.dataset['points'] = String(xs.length);
    const last = ys.map((s) => s.at(-1) ?? null);
    this.element.dataset['last'] = last.map((v) => (v === null ? '' : String(v))).join(',');
    const max = ys.map((s) =>
      s.reduce<number | null>((m, v) => (v === null ? m : Math.max(m ?? v, v)), null),
    );
    this.element.dataset['max'] = max.map((v) => (v === null ? '' : String(v))).join(',');
    this.latest.textContent =
      xs.length === 0
        ? 'no samples yet'
        : this.series
            .map((s, i) => {
              const v = last[i];
              return `${s.label}: ${v === null || v === undefined ? '–' : (s.format?.(v) ?? String(v))}`;
            })
            .join('   ');
  }

  /** Call once the card is in the document (uPlot measures its host). */
  mount(): void {
    if (!this.plot) this.create();
    this.resize.observe(this.plotHost);
  }

  destroy(): void {
    this.resize.disconnect();
    this.plot?.destroy();
    this.plot = null;
  }

  private size(): { width: number; height: number } {
    // uPlot's height includes its legend row.
    return { width: Math.max(200, this.plotHost.clientWidth), height: this.opts.legend ? 184 : 160 };
  }

  private create(): void {
    const { min, max } = this.opts;
    const range = (_u: uPlot, lo: number, hi: number): uPlot.Range.MinMax => [
      min ?? Math.min(0, lo),
      max ?? Math.max(hi, (min ?? 0) + 1),
    ];
    this.plot = new uPlot(
      {
        ...this.size(),
        // A fixed legend (which colour is which series), not uPlot's values under the cursor.
        legend: { show: !!this.opts.legend, live: false },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true }, y: { range } },
        axes: [AXIS, { ...AXIS, size: 50 }],
        series: [
          {},
          ...this.series.map((s) => ({
            label: s.label,
            stroke: s.colour,
            width: 2,
            spanGaps: false,
            points: { show: false },
          })),
        ],
      },
      this.data,
      this.plotHost,
    );
  }

  private fit(): void {
    if (this.plot && this.plotHost.clientWidth > 0) this.plot.setSize(this.size());
  }
}

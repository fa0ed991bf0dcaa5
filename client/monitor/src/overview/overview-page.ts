import type { ExtensionLoad, StatsSample } from '../../../../server/protocol/index.js';
import { h, replace } from '../ui/dom.js';
import { LiveChart, type SeriesSpec } from './chart.js';
import { StatsFeed } from './stats-feed.js';

const PALETTE = ['#38bdf8', '#76b900', '#f2a33a', '#c084fc', '#ff6b6b', '#4cc46a', '#f472b6', '#a3a9b6'];
const pct = (v: number) => `${Math.round(v)}%`;
const msText = (v: number) => (v < 1000 ? `${Math.round(v)} ms` : `${(v / 1000).toFixed(1)} s`);
const perSec = (v: number) => `${v.toFixed(2)}/s`;

/**
 * The operations overview (`#/overview`): queue, throughput, failure rate, durations and each extension's
 * load and state over the last 15 minutes, from the hub's samples of its `/metrics` numbers. Polls only
 * while shown.
 */
export class OverviewPage {
  readonly element: HTMLElement;
  private readonly feed: StatsFeed;
  private readonly charts: LiveChart[];
  private loadChart: LiveChart | null = null;
  private loadKey = '';
  private readonly loadSlot = h('div', { class: 'chart-slot' });
  private readonly states = h('div', { class: 'ext-states', 'data-testid': 'extension-states' });
  private readonly status = h('p', { class: 'muted overview-status', 'data-testid': 'overview-status' });

  constructor(token: () => string | null) {
    this.feed = new StatsFeed(token, () => this.render());
    this.charts = [
      // Waiting and started tasks apart: a long queue must not read as a busy hub.
      new LiveChart(
        'queue',
        'Tasks queued and running',
        [
          { label: 'queued', colour: '#8d99ab' },
          { label: 'running', colour: '#38bdf8' },
        ],
        { unit: 'tasks', legend: true },
      ),
      new LiveChart('throughput', 'Tasks per second', [
        { label: 'started', colour: '#38bdf8', format: perSec },
        { label: 'finished', colour: '#4cc46a', format: perSec },
      ]),
      new LiveChart('failures', 'Failure rate', [{ label: 'failed', colour: '#ff6b6b', format: pct }], {
        unit: '% of finished',
        min: 0,
        max: 100,
      }),
      new LiveChart(
        'durations',
        'Task duration',
        [
          { label: 'p50', colour: '#76b900', format: msText },
          { label: 'p99', colour: '#f2a33a', format: msText },
        ],
        { unit: 'ms' },
      ),
    ];
    this.element = h(
      'section',
      { class: 'overview', 'data-testid': 'overview', 'aria-label': 'Operations overview' },
      h('div', { class: 'overview-head' }, h('h2', null, 'Overview'), this.status),
      h('div', { class: 'chart-grid' }, ...this.charts.map((c) => c.element), this.loadSlot),
      h('h3', { class: 'overview-sub' }, 'Extensions'),
      this.states,
    );
  }

  show(): void {
    this.element.hidden = false;
    for (const c of this.charts) c.mount();
    this.loadChart?.mount();
    this.feed.start();
  }

  hide(): void {
    this.element.hidden = true;
    this.feed.stop();
  }

  private render(): void {
    const samples = this.feed.samples;
    const last = samples.at(-1);
    this.status.textContent =
      this.feed.error ||
      (last
        ? `Last 15 minutes, a sample every ${this.feed.sampleMs / 1000} s · updated ${new Date(last.t).toLocaleTimeString()}`
        : 'Waiting for the first sample…');
    const xs = samples.map((s) => s.t);
    const col = (f: (s: StatsSample) => number | null) => samples.map(f);
    const [queue, throughput, failures, durations] = this.charts;
    queue?.setData(xs, [col((s) => s.queued), col((s) => s.running)]);
    throughput?.setData(xs, [col((s) => s.startedPerSec), col((s) => s.finishedPerSec)]);
    failures?.setData(xs, [col((s) => (s.failureRate === null ? null : s.failureRate * 100))]);
    durations?.setData(xs, [col((s) => s.p50Ms), col((s) => s.p99Ms)]);
    this.renderLoad(xs, samples);
    this.renderStates(last?.extensions ?? []);
  }

  /** One series per extension seen in the window; the chart is rebuilt when that set changes. */
  private renderLoad(xs: number[], samples: StatsSample[]): void {
    const names = new Map<string, string>();
    for (const s of samples) for (const e of s.extensions) names.set(e.id, e.name);
    const ids = [...names.keys()].sort();
    const key = ids.join('|');
    if (key !== this.loadKey || !this.loadChart) {
      this.loadKey = key;
      this.loadChart?.destroy();
      const series: SeriesSpec[] = ids.map((id, i) => ({
        label: names.get(id) ?? id,
        colour: PALETTE[i % PALETTE.length] ?? '#38bdf8',
      }));
      this.loadChart = new LiveChart('load', 'Extension load', series, { unit: 'jobs running' });
      replace(this.loadSlot, this.loadChart.element);
      if (!this.element.hidden) this.loadChart.mount();
    }
    this.loadChart.setData(
      xs,
      ids.map((id) =>
        samples.map((s) => {
          const e = s.extensions.find((x) => x.id === id);
          return e && e.state !== 'offline' ? e.running : null;
        }),
      ),
    );
  }

  private renderStates(extensions: ExtensionLoad[]): void {
    if (extensions.length === 0) {
      replace(this.states, h('p', { class: 'muted' }, 'No extensions in the last 15 minutes.'));
      return;
    }
    replace(
      this.states,
      ...extensions.map((e) =>
        h(
          'div',
          { class: 'ext-state', 'data-extension': e.id, 'data-state': e.state },
          h('span', { class: `state-badge state-${e.state}` }, e.state),
          h('span', { class: 'ext-state-name' }, e.name),
          h(
            'span',
            { class: 'muted' },
            e.state === 'offline' ? 'offline' : `${e.running}/${e.slots} slots busy`,
          ),
        ),
      ),
    );
  }
}

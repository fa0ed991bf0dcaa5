import type { TaskEvent } from '../protocol.js';
import { h, text } from '../ui/dom.js';
import { formatDuration } from '../ui/format.js';

type EventOf<T extends TaskEvent['type']> = Extract<TaskEvent, { type: T }>;

interface NodeRun {
  el: HTMLElement;
  state: HTMLElement;
  started: number;
}

/** Graph node progress (node_start/node_end) as a step list, and the latest `progress` as a bar. */
export class ProgressPanel {
  readonly element: HTMLElement;
  private readonly steps: HTMLOListElement;
  private readonly bar: HTMLProgressElement;
  private readonly message: HTMLElement;
  private readonly runs = new Map<string, NodeRun>();

  constructor() {
    this.steps = h('ol', { class: 'steps', 'data-testid': 'node-progress', 'aria-label': 'Workflow steps' });
    this.bar = h('progress', { max: 1, 'aria-label': 'Progress', 'data-testid': 'progress-bar' });
    this.message = h('span', { class: 'muted' });
    const barRow = h('div', { class: 'progress-row', hidden: true }, this.bar, this.message);
    this.element = h('div', { class: 'progress-panel', hidden: true }, this.steps, barRow);
  }

  nodeStart(e: EventOf<'node_start'>): void {
    this.element.hidden = false;
    const state = h('span', { class: 'step-state' }, 'running');
    const el = h(
      'li',
      { class: 'step running', 'data-node': e.data.node, 'data-state': 'running' },
      h('span', { class: 'step-dot', 'aria-hidden': 'true' }),
      h('span', { class: 'step-name mono' }, e.data.node),
      e.data.nodeType ? h('span', { class: 'muted' }, e.data.nodeType) : null,
      state,
    );
    this.steps.appendChild(el);
    this.runs.set(e.data.node, { el, state, started: Date.parse(e.ts) });
  }

  nodeEnd(e: EventOf<'node_end'>): void {
    const run = this.runs.get(e.data.node);
    if (!run) return;
    this.runs.delete(e.data.node);
    run.el.className = 'step done';
    run.el.dataset['state'] = 'done';
    text(run.state, formatDuration(Date.parse(e.ts) - run.started));
  }

  progress(e: EventOf<'progress'>): void {
    this.element.hidden = false;
    const row = this.bar.parentElement as HTMLElement;
    row.hidden = false;
    // Plugin tasks report percent (0-100) beside the fraction; either fills the bar.
    const fraction = e.data.fraction ?? (e.data.percent === undefined ? undefined : e.data.percent / 100);
    if (fraction === undefined) this.bar.removeAttribute('value');
    else this.bar.value = fraction;
    text(
      this.message,
      [fraction === undefined ? '' : `${Math.round(fraction * 100)}%`, e.data.message ?? '']
        .filter(Boolean)
        .join(' · '),
    );
  }

  /** The task ended: steps still marked running did not finish. */
  end(): void {
    for (const run of this.runs.values()) {
      run.el.className = 'step stopped';
      run.el.dataset['state'] = 'stopped';
      text(run.state, 'stopped');
    }
    this.runs.clear();
  }
}

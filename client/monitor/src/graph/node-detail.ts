import type { TaskEvent } from '../protocol.js';
import { h, replace } from '../ui/dom.js';
import { clockTime, pretty } from '../ui/format.js';
import type { NodeRun } from './graph-state.js';

/** The pane under the graph: the clicked node's state, inputs, outputs and the events it produced. */
export class NodeDetail {
  readonly element: HTMLElement;
  private shownCount = -1;
  private id = '';
  private label = '';

  constructor() {
    this.element = h('section', { class: 'node-detail', 'data-testid': 'node-detail', hidden: true });
  }

  show(id: string, label: string, run: NodeRun): void {
    this.id = id;
    this.label = label;
    this.shownCount = -1;
    this.element.hidden = false;
    this.refresh(run);
  }

  refresh(run: NodeRun): void {
    // Redrawn only when the node's events moved (its state moves with them).
    const key =
      run.eventCount * 8 + ['waiting', 'running', 'succeeded', 'failed', 'skipped'].indexOf(run.state);
    if (key === this.shownCount) return;
    this.shownCount = key;
    this.element.dataset['node'] = this.id;
    replace(
      this.element,
      h(
        'header',
        { class: 'node-detail-head' },
        h('strong', null, this.label),
        h('span', { class: 'mono muted' }, this.id),
        h('span', { class: `badge graph-badge ${run.state}`, 'data-testid': 'node-detail-state' }, run.state),
        run.runs > 1 ? h('span', { class: 'muted' }, `${run.runs} runs`) : null,
        run.iterations !== undefined
          ? h('span', { class: 'muted', 'data-testid': 'node-iterations' }, `${run.iterations} iterations`)
          : null,
        h(
          'button',
          { type: 'button', class: 'ghost small', onclick: () => (this.element.hidden = true) },
          'Close',
        ),
      ),
      run.error ? h('div', { class: 'form-error' }, run.error) : null,
      block('Inputs', run.inputs, 'node-inputs'),
      block('Outputs', run.outputs, 'node-outputs'),
      h(
        'div',
        { class: 'node-events' },
        h('div', { class: 'tool-title' }, `Events (${run.eventCount})`),
        run.events.length === 0
          ? h('span', { class: 'muted' }, 'None yet.')
          : h('ol', { 'data-testid': 'node-events' }, coalesce(run.events).map(eventLine)),
      ),
    );
  }
}

function block(title: string, value: unknown, testid: string): HTMLElement {
  return h(
    'div',
    { class: 'tool-section' },
    h('div', { class: 'tool-title' }, title),
    value === undefined
      ? h('span', { class: 'muted', 'data-testid': testid }, '—')
      : h('pre', { class: 'json', 'data-testid': testid }, pretty(value)),
  );
}

/** Runs of tokens read as one line of text, not one line per token. */
function coalesce(events: readonly TaskEvent[]): Array<TaskEvent | { tokens: string; ts: string }> {
  const out: Array<TaskEvent | { tokens: string; ts: string }> = [];
  for (const e of events) {
    const last = out.at(-1);
    if (e.type === 'token' && last && 'tokens' in last) last.tokens += e.data.text;
    else if (e.type === 'token') out.push({ tokens: e.data.text, ts: e.ts });
    else out.push(e);
  }
  return out;
}

function eventLine(e: TaskEvent | { tokens: string; ts: string }): HTMLElement {
  if ('tokens' in e)
    return h(
      'li',
      null,
      h('time', { class: 'mono muted' }, clockTime(e.ts)),
      ' token ',
      h('span', null, e.tokens),
    );
  const what =
    e.type === 'tool_start'
      ? `${e.data.name} called`
      : e.type === 'tool_result'
        ? `${e.data.name} ${e.data.isError ? 'failed' : 'returned'}`
        : e.type === 'node_start'
          ? `started${e.data.loop ? ` (iteration ${e.data.loop.index + 1})` : ''}`
          : e.type === 'node_end'
            ? `ended${e.data.status ? ` ${e.data.status}` : ''}${e.data.branch ? ` via ${e.data.branch}` : ''}`
            : e.type === 'output'
              ? `${e.data.stream}: ${e.data.text.slice(0, 200)}`
              : e.type;
  return h('li', { 'data-type': e.type }, h('time', { class: 'mono muted' }, clockTime(e.ts)), ` ${what}`);
}

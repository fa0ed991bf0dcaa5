import { type FlowNodeInfo, type FlowNodeProgress, FlowProgress } from '../../../sdk/flow-progress.js';
import type { TaskEvent } from '../protocol.js';
import { h, text } from '../ui/dom.js';
import { formatDuration } from '../ui/format.js';

interface Row {
  el: HTMLLIElement;
  state: HTMLElement;
  runs: HTMLElement;
  took: HTMLElement;
  error: HTMLElement;
}

/**
 * A flowgram task's nodes as a progress list: every node of its schema from the start (waiting), then
 * running, succeeded, failed or cancelled as node events arrive, with how many times a node inside a loop
 * has run and how long its last run took. Events only mark nodes dirty; rows are redrawn once per frame
 * (`commit`), so a 1,000-iteration loop costs a handful of DOM writes, not thousands.
 */
export class FlowPanel {
  readonly element: HTMLElement;
  private readonly list: HTMLOListElement;
  private readonly summary: HTMLElement;
  private readonly progress: FlowProgress;
  private readonly rows = new Map<string, Row>();
  private readonly dirty = new Set<string>();

  constructor(nodes: readonly FlowNodeInfo[]) {
    this.progress = new FlowProgress(nodes);
    this.list = h('ol', { class: 'flow-nodes', 'data-testid': 'flow-nodes', 'aria-label': 'FlowGram nodes' });
    this.summary = h('span', { class: 'muted', 'data-testid': 'flow-summary' });
    this.element = h(
      'div',
      { class: 'flow-panel' },
      h('div', { class: 'flow-head' }, h('h4', null, 'Nodes'), this.summary),
      this.list,
    );
    for (const node of this.progress.nodes) this.dirty.add(node.id);
    this.commit();
  }

  apply(event: TaskEvent): void {
    const step = this.progress.apply(event);
    if (step) this.dirty.add(step.node.id);
  }

  /** Redraws the rows that changed since the last frame. */
  commit(): void {
    if (this.dirty.size === 0) return;
    for (const id of this.dirty) {
      const node = this.progress.get(id);
      if (node) this.draw(node);
    }
    this.dirty.clear();
    const nodes = this.progress.nodes;
    const done = nodes.filter((n) => n.state !== 'waiting' && n.state !== 'running').length;
    const runs = nodes.reduce((sum, n) => sum + n.runs, 0);
    text(this.summary, `${done}/${nodes.length} nodes finished · ${runs} node runs`);
  }

  /** The task ended: nodes still running were stopped with it. */
  end(): void {
    for (const node of this.progress.nodes) {
      if (node.state !== 'running') continue;
      const row = this.rows.get(node.id);
      if (!row) continue;
      row.el.dataset['state'] = 'stopped';
      row.el.className = this.rowClass(node, 'stopped');
      text(row.state, 'stopped');
    }
  }

  private draw(node: FlowNodeProgress): void {
    const row = this.rows.get(node.id) ?? this.addRow(node);
    row.el.dataset['state'] = node.state;
    row.el.dataset['runs'] = String(node.runs);
    row.el.className = this.rowClass(node, node.state);
    text(row.state, node.state);
    const looped = node.parent !== undefined || node.runs > 1;
    row.runs.hidden = !looped || node.runs === 0;
    text(row.runs, `×${node.runs}`);
    row.runs.title = `${node.runs} run${node.runs === 1 ? '' : 's'} (loop iterations)`;
    text(row.took, node.lastMs === undefined ? '' : formatDuration(node.lastMs));
    row.error.hidden = node.error === undefined;
    text(row.error, node.error ?? '');
  }

  private rowClass(node: FlowNodeProgress, state: string): string {
    return `flow-node ${state}${node.parent === undefined ? '' : ' nested'}`;
  }

  private addRow(node: FlowNodeProgress): Row {
    const state = h('span', { class: 'step-state', 'data-testid': 'node-state' });
    const runs = h('span', { class: 'flow-runs mono', 'data-testid': 'node-runs', hidden: true });
    const took = h('span', { class: 'step-state', 'data-testid': 'node-duration' });
    const error = h('span', { class: 'flow-error', 'data-testid': 'node-error', hidden: true });
    const el = h(
      'li',
      { class: 'flow-node waiting', 'data-node': node.id, 'data-state': 'waiting' },
      h('span', { class: 'step-dot', 'aria-hidden': 'true' }),
      h('span', { class: 'step-name mono' }, node.title ?? node.id),
      node.type ? h('span', { class: 'muted' }, node.type) : null,
      runs,
      state,
      took,
      error,
    );
    this.list.appendChild(el);
    const row = { el, state, runs, took, error };
    this.rows.set(node.id, row);
    return row;
  }
}

import type { RunGraph, TaskEvent } from '../protocol.js';
import { frameScheduler, h, replace, text } from '../ui/dom.js';
import { type Layout, layoutGraph, type PlacedNode } from './graph-layout.js';
import { GraphState, type NodeRun } from './graph-state.js';
import { NodeDetail } from './node-detail.js';

const SVG = 'http://www.w3.org/2000/svg';
const MIN_SCALE = 0.7;

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

interface DrawnNode {
  g: SVGGElement;
  state: SVGTextElement;
  runs: SVGTextElement;
}

/**
 * A run as a graph: the workflow's nodes and edges laid out by dagre, each node coloured by its live state
 * (waiting, running, succeeded, failed, skipped) with its run count (loop iterations, agent turns). Clicking
 * a node opens its inputs, outputs and events below. Events only mark the view dirty; it redraws once a frame.
 */
export class GraphView {
  readonly element: HTMLElement;
  private readonly state = new GraphState();
  private readonly canvas: HTMLElement;
  private readonly summary: HTMLElement;
  private readonly detail = new NodeDetail();
  private readonly drawn = new Map<string, DrawnNode>();
  private layout: Layout | null = null;
  private selected: string | null = null;
  private drawnVersion = -1;
  private readonly schedule = frameScheduler(() => this.redraw());

  constructor() {
    this.canvas = h(
      'div',
      { class: 'graph-canvas', 'data-testid': 'graph-canvas' },
      h('p', { class: 'muted' }, 'Loading graph…'),
    );
    this.summary = h('span', { class: 'muted', 'data-testid': 'graph-summary' });
    this.element = h(
      'details',
      { class: 'graph-panel', open: true, 'data-testid': 'run-graph' },
      h('summary', null, h('h3', null, 'Graph'), this.summary),
      this.canvas,
      this.detail.element,
    );
  }

  setGraph(graph: RunGraph): void {
    for (const n of graph.nodes) this.state.get(n.id);
    this.layout = layoutGraph(graph);
    this.element.dataset['source'] = graph.source;
    this.draw(this.layout);
    this.drawnVersion = -1;
    this.redraw();
  }

  showError(message: string): void {
    replace(this.canvas, h('p', { class: 'form-error', role: 'alert' }, `No graph: ${message}`));
  }

  apply(e: TaskEvent): void {
    this.state.apply(e);
    this.schedule();
  }

  private draw(layout: Layout): void {
    const root = svg('svg', {
      viewBox: `0 0 ${layout.width} ${layout.height}`,
      role: 'group',
      'aria-label': 'Run graph',
    });
    // Shrinks to the pane's width (to no less than MIN_SCALE, past which text gets too small), never grows.
    root.style.width = `clamp(${Math.round(layout.width * MIN_SCALE)}px, 100%, ${layout.width}px)`;
    const defs = svg('defs');
    const marker = svg('marker', {
      id: 'graph-arrow',
      viewBox: '0 0 10 10',
      refX: 9,
      refY: 5,
      markerWidth: 7,
      markerHeight: 7,
      orient: 'auto-start-reverse',
    });
    marker.append(svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'graph-arrow' }));
    defs.append(marker);
    root.append(defs);
    // Loop bodies first (outer boxes under inner ones), then edges over them, then nodes on top.
    const depth = (id: string | undefined): number =>
      id ? 1 + depth(layout.boxes.find((b) => b.id === id)?.parent) : 0;
    for (const b of [...layout.boxes].sort((a, c) => depth(a.id) - depth(c.id))) {
      const rect = svg('rect', {
        x: (b.x - b.width / 2).toFixed(1),
        y: (b.y - b.height / 2).toFixed(1),
        width: b.width.toFixed(1),
        height: b.height.toFixed(1),
        rx: 10,
        class: 'graph-loop-box',
      });
      rect.dataset['loopBox'] = b.id;
      root.append(rect);
    }
    for (const e of layout.edges) {
      const d = e.points
        .map((p, i) => `${i === 0 ? 'M' : 'L'} ${p.x.toFixed(1)} ${p.y.toFixed(1)}`)
        .join(' ');
      const path = svg('path', { d, class: `graph-edge ${e.kind}`, 'marker-end': 'url(#graph-arrow)' });
      path.dataset['edge'] = `${e.source}->${e.target}`;
      root.append(path);
      if (e.label) {
        const mid = e.points[Math.floor(e.points.length / 2)];
        if (mid) {
          const label = svg('text', { x: mid.x + 4, y: mid.y - 4, class: 'graph-edge-label' });
          label.textContent = e.label;
          root.append(label);
        }
      }
    }
    this.drawn.clear();
    for (const n of layout.nodes) root.append(this.node(n));
    replace(this.canvas, root);
  }

  private node(n: PlacedNode): SVGGElement {
    const x = n.x - n.width / 2;
    const y = n.y - n.height / 2;
    const g = svg('g', {
      class: 'graph-node waiting',
      transform: `translate(${x.toFixed(1)} ${y.toFixed(1)})`,
      tabindex: 0,
      role: 'button',
    });
    g.dataset['node'] = n.id;
    g.dataset['state'] = 'waiting';
    g.setAttribute('aria-label', `${n.label} (${n.type})`);
    const pill = n.type === 'start' || n.type === 'end';
    g.append(
      svg('rect', { width: n.width, height: n.height, rx: pill ? n.height / 2 : 8, class: 'graph-box' }),
    );
    if (n.parent) g.classList.add('nested');
    const title = svg('text', { x: 12, y: 18, class: 'graph-title' });
    title.textContent = n.label;
    const state = svg('text', { x: 12, y: 34, class: 'graph-state' });
    const runs = svg('text', { x: n.width - 10, y: 18, class: 'graph-runs', 'text-anchor': 'end' });
    runs.dataset['testid'] = 'graph-node-runs';
    g.append(title, state, runs);
    const open = () => this.select(n.id, n.label);
    g.addEventListener('click', open);
    g.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' || ev.key === ' ') {
        ev.preventDefault();
        open();
      }
    });
    this.drawn.set(n.id, { g, state, runs });
    return g;
  }

  private select(id: string, label: string): void {
    for (const [nid, d] of this.drawn) d.g.classList.toggle('selected', nid === id);
    this.selected = id;
    this.detail.show(id, label, this.state.get(id));
  }

  private redraw(): void {
    if (!this.layout || this.drawnVersion === this.state.version) return;
    this.drawnVersion = this.state.version;
    let done = 0;
    let runs = 0;
    for (const [id, d] of this.drawn) {
      const n = this.state.get(id);
      paint(d, n);
      if (n.state !== 'waiting' && n.state !== 'running') done += 1;
      runs += n.runs;
    }
    text(this.summary, `${done}/${this.drawn.size} nodes settled · ${runs} node runs`);
    if (this.selected) this.detail.refresh(this.state.get(this.selected));
  }
}

function paint(d: DrawnNode, n: NodeRun): void {
  if (d.g.dataset['state'] !== n.state) {
    d.g.dataset['state'] = n.state;
    d.g.classList.remove('waiting', 'running', 'succeeded', 'failed', 'skipped');
    d.g.classList.add(n.state);
  }
  d.g.dataset['runs'] = String(n.runs);
  if (n.iterations !== undefined) d.g.dataset['iterations'] = String(n.iterations);
  const label = n.error ? `${n.state}: ${n.error}` : n.state;
  if (d.state.textContent !== label)
    d.state.textContent = label.length > 40 ? `${label.slice(0, 39)}…` : label;
  // A loop counts its iterations; any other node, how often it ran.
  const runs = n.iterations !== undefined ? `↻${n.iterations}` : n.runs > 1 ? `×${n.runs}` : '';
  if (d.runs.textContent !== runs) d.runs.textContent = runs;
  d.runs.setAttribute(
    'aria-label',
    n.iterations !== undefined ? `${n.iterations} iterations` : `${n.runs} runs`,
  );
}

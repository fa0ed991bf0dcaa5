import type { FlowNodeProgress, FlowStep } from '../sdk/index.js';

type Paint = (colour: 'green' | 'red' | 'dim' | 'yellow', text: string) => string;

/** `12ms`, `1.4s`: node runs are mostly short, so milliseconds until a second. */
export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(1)}s`;
}

function label(node: FlowNodeProgress): string {
  const kind = node.type ? ` (${node.type})` : '';
  return `${node.id}${kind}`;
}

/** A node inside a loop says which run this is; a node that runs once says nothing. */
function iteration(step: FlowStep): string {
  return step.node.parent !== undefined || step.run > 1 ? ` #${step.run}` : '';
}

/** One terminal line per node start or end: `▶ code_0 (code) started`, `✔ code_0 succeeded 12ms`. */
export function stepLine(step: FlowStep, paint: Paint): string {
  const { node } = step;
  if (step.kind === 'start') return paint('dim', `▶ ${label(node)}${iteration(step)} started`);
  const took = step.ms === undefined ? '' : ` ${formatMs(step.ms)}`;
  if (node.state === 'failed') {
    const why = node.error ? `: ${node.error}` : '';
    return paint('red', `✖ ${label(node)}${iteration(step)} failed${took}${why}`);
  }
  return paint('green', `✔ ${label(node)}${iteration(step)} succeeded${took}`);
}

/** The closing summary: `nodes: 4 succeeded, 1 failed, 1 waiting · loop_0 ran 3×`. */
export function summaryLine(nodes: readonly FlowNodeProgress[]): string {
  const counts = new Map<string, number>();
  for (const node of nodes) counts.set(node.state, (counts.get(node.state) ?? 0) + 1);
  const order = ['succeeded', 'failed', 'running', 'waiting'] as const;
  const parts = order.filter((s) => counts.has(s)).map((s) => `${counts.get(s)} ${s}`);
  const repeated = nodes.filter((n) => n.runs > 1).map((n) => `${n.id} ran ${n.runs}×`);
  return `nodes: ${parts.join(', ') || 'none'}${repeated.length ? ` · ${repeated.join(', ')}` : ''}`;
}

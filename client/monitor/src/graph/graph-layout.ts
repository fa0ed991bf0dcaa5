import dagre from '@dagrejs/dagre';
import type { RunGraph } from '../protocol.js';

export interface PlacedNode {
  id: string;
  label: string;
  type: string;
  parent?: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PlacedEdge {
  source: string;
  target: string;
  label?: string;
  /** `branch`: taken only when a condition routes there; `contains`: a loop to the first nodes of its body. */
  kind: 'flow' | 'branch' | 'contains';
  points: Array<{ x: number; y: number }>;
}

export interface Layout {
  width: number;
  height: number;
  nodes: PlacedNode[];
  edges: PlacedEdge[];
}

const NODE_HEIGHT = 44;
const CHAR_WIDTH = 7.5;
const MARGIN = 16;

/**
 * Places a run graph with dagre (top to bottom, ranks by edges). A loop's body is laid out below the loop,
 * joined to it by `contains` edges to the body's first nodes, rather than as a dagre cluster: dagre does not
 * route edges that end on a cluster, and a FlowGram loop has edges of its own.
 */
export function layoutGraph(graph: RunGraph): Layout {
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: 'TB', nodesep: 28, ranksep: 36, edgesep: 12, marginx: MARGIN, marginy: MARGIN });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of graph.nodes) {
    const width = Math.max(96, Math.min(240, 28 + n.label.length * CHAR_WIDTH + (n.type.length + 3) * 6));
    g.setNode(n.id, { width, height: NODE_HEIGHT });
  }
  const edges: Array<Omit<PlacedEdge, 'points'>> = graph.edges.map((e) => ({
    source: e.source,
    target: e.target,
    kind: e.conditional ? 'branch' : 'flow',
    ...(e.label ? { label: e.label } : {}),
  }));
  const hasIncoming = new Set(graph.edges.map((e) => e.target));
  for (const n of graph.nodes) {
    if (n.parent && !hasIncoming.has(n.id)) edges.push({ source: n.parent, target: n.id, kind: 'contains' });
  }
  edges.forEach((e, i) => {
    if (g.hasNode(e.source) && g.hasNode(e.target))
      g.setEdge(
        e.source,
        e.target,
        { minlen: e.kind === 'contains' ? 1 : 1, weight: e.kind === 'contains' ? 2 : 1 },
        String(i),
      );
  });
  dagre.layout(g);
  const nodes: PlacedNode[] = graph.nodes.map((n) => {
    const p = g.node(n.id);
    return { ...n, x: p.x, y: p.y, width: p.width, height: p.height };
  });
  const placed: PlacedEdge[] = [];
  edges.forEach((e, i) => {
    const got = g.edge({ v: e.source, w: e.target, name: String(i) }) as
      | { points?: PlacedEdge['points'] }
      | undefined;
    if (got?.points) placed.push({ ...e, points: got.points });
  });
  const size = g.graph();
  return { width: Math.ceil(size.width ?? 0), height: Math.ceil(size.height ?? 0), nodes, edges: placed };
}

import dagre from '@dagrejs/dagre';
import type { RunGraph, RunGraphNode } from '../protocol.js';

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

/** A loop's body drawn as a box around it: the loop node heads it; `id` is the loop's node id. */
export interface PlacedBox {
  id: string;
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
  boxes: PlacedBox[];
  edges: PlacedEdge[];
}

const NODE_HEIGHT = 44;
const CHAR_WIDTH = 7.5;
const MARGIN = 16;

const boxOf = (id: string) => `${id}::box`;
const exitOf = (id: string) => `${id}::exit`;

interface RankedEdge {
  source: string;
  target: string;
  /** Drawn as this edge; absent: only there to rank the nodes (a body above its loop's exit). */
  drawn?: Omit<PlacedEdge, 'points'>;
}

/**
 * Places a run graph with dagre (ranks by edges; FlowGram left to right, LangGraph top to bottom). A loop's body sits inside a box (a dagre
 * cluster) headed by the loop node. dagre does not route edges that end on a cluster, so the loop node is a
 * plain node inside its box, and the loop's outgoing edges leave from an invisible exit node at the box's
 * far end, which every node of the body ranks before.
 */
export function layoutGraph(graph: RunGraph): Layout {
  const g = new dagre.graphlib.Graph({ multigraph: true, compound: true });
  // FlowGram's editor draws a flow left to right, and a run of a few loops fits a wide, short pane that way;
  // LangGraph's graphs read top to bottom (as LangGraph Studio draws them).
  const across = graph.source === 'flowgram';
  g.setGraph({
    rankdir: across ? 'LR' : 'TB',
    nodesep: across ? 18 : 28,
    ranksep: across ? 40 : 36,
    edgesep: 12,
    marginx: MARGIN,
    marginy: MARGIN,
  });
  g.setDefaultEdgeLabel(() => ({}));
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const parentOf = (n: RunGraphNode) => (n.parent && byId.has(n.parent) ? n.parent : undefined);
  const loops = new Set(graph.nodes.map(parentOf).filter((p): p is string => p !== undefined));
  const inside = (id: string, loop: string): boolean => {
    for (let p = byId.get(id)?.parent; p; p = byId.get(p)?.parent) if (p === loop) return true;
    return false;
  };

  for (const n of graph.nodes) {
    const width = Math.max(96, Math.min(240, 28 + n.label.length * CHAR_WIDTH + (n.type.length + 3) * 6));
    g.setNode(n.id, { width, height: NODE_HEIGHT });
  }
  for (const n of graph.nodes) {
    const parent = parentOf(n);
    if (parent) g.setParent(n.id, boxOf(parent));
  }
  for (const id of loops) {
    g.setNode(boxOf(id), {});
    g.setNode(exitOf(id), { width: 1, height: 1 });
    g.setParent(id, boxOf(id));
    g.setParent(exitOf(id), boxOf(id));
    const parent = byId.get(id)?.parent;
    if (parent && loops.has(parent)) g.setParent(boxOf(id), boxOf(parent));
  }

  const ranked: RankedEdge[] = [];
  for (const e of graph.edges) {
    const kind = e.conditional ? 'branch' : 'flow';
    const drawn = {
      source: e.source,
      target: e.target,
      kind,
      ...(e.label ? { label: e.label } : {}),
    } as const;
    // Out of a loop: from its box's foot, below the whole body.
    const from = loops.has(e.source) && !inside(e.target, e.source) ? exitOf(e.source) : e.source;
    ranked.push({ source: from, target: e.target, drawn });
  }
  const hasIncoming = new Set(graph.edges.map((e) => e.target));
  for (const n of graph.nodes) {
    const loop = parentOf(n);
    if (!loop) continue;
    if (!hasIncoming.has(n.id))
      ranked.push({ source: loop, target: n.id, drawn: { source: loop, target: n.id, kind: 'contains' } });
    ranked.push({ source: loops.has(n.id) ? exitOf(n.id) : n.id, target: exitOf(loop) });
  }
  ranked.forEach((e, i) => {
    if (g.hasNode(e.source) && g.hasNode(e.target))
      g.setEdge(e.source, e.target, { minlen: 1, weight: e.drawn ? 1 : 2 }, String(i));
  });
  dagre.layout(g);

  const nodes: PlacedNode[] = graph.nodes.map((n) => {
    const p = g.node(n.id);
    return { ...n, x: p.x, y: p.y, width: p.width, height: p.height };
  });
  const boxes: PlacedBox[] = [...loops].map((id) => {
    const b = g.node(boxOf(id));
    const parent = byId.get(id)?.parent;
    return { id, ...(parent ? { parent } : {}), x: b.x, y: b.y, width: b.width, height: b.height };
  });
  const boxById = new Map(boxes.map((b) => [b.id, b]));
  const placed: PlacedEdge[] = [];
  ranked.forEach((e, i) => {
    if (!e.drawn) return;
    const got = g.edge({ v: e.source, w: e.target, name: String(i) }) as
      | { points?: PlacedEdge['points'] }
      | undefined;
    if (!got?.points) return;
    const points = [...got.points];
    // An exit edge starts on the box's far border, not at the invisible exit node inside it.
    const box = e.source === exitOf(e.drawn.source) ? boxById.get(e.drawn.source) : undefined;
    if (box && points[0])
      points[0] = across
        ? { x: box.x + box.width / 2, y: points[0].y }
        : { x: points[0].x, y: box.y + box.height / 2 };
    placed.push({ ...e.drawn, points });
  });
  const size = g.graph();
  return {
    width: Math.ceil(size.width ?? 0),
    height: Math.ceil(size.height ?? 0),
    nodes,
    boxes,
    edges: placed,
  };
}

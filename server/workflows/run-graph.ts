import type { RunGraph, RunGraphEdge, RunGraphNode } from '../protocol/graph.js';

/** What `getGraph()` of a compiled LangGraph graph gives (the parts we read). */
interface DrawableGraph {
  nodes: Record<string, { id: string; name: string }>;
  edges: Array<{ source: string; target: string; data?: unknown; conditional?: boolean }>;
}

const START = '__start__';
const END = '__end__';

/** A compiled LangGraph graph's drawable graph (`getGraph()`) as the contract's RunGraph. */
export function fromLangGraph(name: string, graph: DrawableGraph): RunGraph {
  const nodes: RunGraphNode[] = Object.values(graph.nodes).map((n) => ({
    id: n.id,
    label: n.id === START ? 'start' : n.id === END ? 'end' : n.name,
    type: n.id === START ? 'start' : n.id === END ? 'end' : 'node',
  }));
  const edges: RunGraphEdge[] = graph.edges.map((e) => ({
    source: e.source,
    target: e.target,
    conditional: e.conditional === true,
    ...(typeof e.data === 'string' ? { label: e.data } : {}),
  }));
  return { source: 'langgraph', name, nodes, edges };
}

/**
 * A FlowGram schema's graph: every node (blocks of loops included, with their loop as parent) and every edge,
 * block edges too. Loose on purpose: it draws whatever the task stored, even a schema that failed validation.
 */
export function flowgramGraph(schema: unknown): RunGraph {
  const nodes: RunGraphNode[] = [];
  const edges: RunGraphEdge[] = [];
  collect(schema, undefined, nodes, edges);
  const known = new Set(nodes.map((n) => n.id));
  return {
    source: 'flowgram',
    name: 'flowgram',
    nodes,
    edges: edges.filter((e) => known.has(e.source) && known.has(e.target)),
  };
}

function collect(
  container: unknown,
  parent: string | undefined,
  nodes: RunGraphNode[],
  edges: RunGraphEdge[],
): void {
  if (!isRecord(container)) return;
  const list = container['nodes'] ?? container['blocks'];
  if (Array.isArray(list)) {
    for (const raw of list) {
      if (!isRecord(raw) || typeof raw['id'] !== 'string') continue;
      const id = raw['id'];
      const type = typeof raw['type'] === 'string' ? raw['type'] : 'node';
      const title = isRecord(raw['data']) ? raw['data']['title'] : undefined;
      nodes.push({ id, label: typeof title === 'string' ? title : id, type, ...(parent ? { parent } : {}) });
      if (Array.isArray(raw['blocks']))
        collect({ nodes: raw['blocks'], edges: raw['edges'] }, id, nodes, edges);
    }
  }
  const links = container['edges'];
  if (!Array.isArray(links)) return;
  for (const raw of links) {
    if (!isRecord(raw)) continue;
    const { sourceNodeID: source, targetNodeID: target, sourcePortID: port } = raw;
    if (typeof source !== 'string' || typeof target !== 'string') continue;
    const label = typeof port === 'string' && port !== '' ? port : undefined;
    edges.push({ source, target, conditional: label !== undefined, ...(label ? { label } : {}) });
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

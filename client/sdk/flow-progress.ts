import type { TaskEvent } from '../../server/protocol/index.js';

/**
 * A FlowGram task's nodes as a progress list, folded from its node_start / node_end events. Shared by the
 * CLI (`flow run --follow`) and the monitor, so both tell the same story: which nodes wait, run, succeeded
 * or failed, how often a node inside a loop has run, and how long each run took. Types only from the
 * contract, no runtime imports: the monitor bundles this file.
 */
export type FlowNodeState = 'waiting' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface FlowNodeInfo {
  id: string;
  type?: string;
  title?: string;
  /** The loop (or other block node) this node sits inside. */
  parent?: string;
}

export interface FlowNodeProgress extends FlowNodeInfo {
  state: FlowNodeState;
  /** How many times the node has started: a node inside a loop runs once per iteration. */
  runs: number;
  /** Duration of the latest finished run, in ms. */
  lastMs?: number;
  /** Sum of all finished runs, in ms. */
  totalMs: number;
  error?: string;
}

/** One change to the list, as the CLI prints it: a node started or ended. */
export interface FlowStep {
  kind: 'start' | 'end';
  node: FlowNodeProgress;
  /** 1-based run number of this node (its loop iteration when inside a loop). */
  run: number;
  /** For `end`: how long this run took. */
  ms?: number;
}

type NodeEvent = Extract<TaskEvent, { type: 'node_start' | 'node_end' }>;

export class FlowProgress {
  readonly #nodes = new Map<string, FlowNodeProgress>();
  readonly #startedAt = new Map<string, number>();

  /** `nodes` from the schema (see flowNodesOf) lets nodes that have not started yet show as waiting. */
  constructor(nodes: readonly FlowNodeInfo[] = []) {
    for (const info of nodes) this.#nodes.set(info.id, { ...info, state: 'waiting', runs: 0, totalMs: 0 });
  }

  /** Nodes in schema order, then in the order unknown ones first started. */
  get nodes(): FlowNodeProgress[] {
    return [...this.#nodes.values()];
  }

  get(id: string): FlowNodeProgress | undefined {
    return this.#nodes.get(id);
  }

  /** Folds one task event in; returns the step for node events, undefined for the rest. */
  apply(event: TaskEvent): FlowStep | undefined {
    if (event.type === 'node_start') return this.#start(event);
    if (event.type === 'node_end') return this.#end(event);
    return undefined;
  }

  #node(id: string, type?: string): FlowNodeProgress {
    let node = this.#nodes.get(id);
    if (!node) {
      node = { id, state: 'waiting', runs: 0, totalMs: 0 };
      this.#nodes.set(id, node);
    }
    if (type !== undefined && node.type === undefined) node.type = type;
    return node;
  }

  #start(event: NodeEvent & { type: 'node_start' }): FlowStep {
    const node = this.#node(event.data.node, event.data.nodeType);
    const extra = event.data as Record<string, unknown>;
    if (node.title === undefined && typeof extra['title'] === 'string') node.title = extra['title'];
    const loop = loopOf(extra['loop']);
    if (loop && node.parent === undefined) node.parent = loop.nodeId;
    node.runs += 1;
    node.state = 'running';
    delete node.error;
    this.#startedAt.set(node.id, Date.parse(event.ts));
    return { kind: 'start', node, run: node.runs };
  }

  #end(event: NodeEvent & { type: 'node_end' }): FlowStep {
    const node = this.#node(event.data.node);
    if (node.runs === 0) node.runs = 1;
    const started = this.#startedAt.get(node.id);
    const ms = started === undefined ? undefined : Math.max(0, Date.parse(event.ts) - started);
    this.#startedAt.delete(node.id);
    const error = endError(event.data);
    node.state = endState(event.data, error);
    if (error !== undefined) node.error = error;
    if (ms !== undefined) {
      node.lastMs = ms;
      node.totalMs += ms;
    }
    return { kind: 'end', node, run: node.runs, ...(ms === undefined ? {} : { ms }) };
  }
}

/**
 * node_end carries its error in whatever shape the engine gives (a string, an error body, or a status
 * field); read it loosely so the list works with any of them.
 */
function endError(data: object): string | undefined {
  const error = (data as Record<string, unknown>)['error'];
  if (typeof error === 'string' && error !== '') return error;
  if (typeof error === 'object' && error !== null) {
    const message = (error as Record<string, unknown>)['message'];
    return typeof message === 'string' ? message : JSON.stringify(error);
  }
  return undefined;
}

function endState(data: object, error: string | undefined): FlowNodeState {
  const status = (data as Record<string, unknown>)['status'];
  if (status === 'canceled' || status === 'cancelled') return 'cancelled';
  if (status === 'failed' || status === 'error' || error !== undefined) return 'failed';
  return 'succeeded';
}

/** node_start's `loop: {nodeId, index}` when the node runs inside a loop body. */
function loopOf(value: unknown): { nodeId: string; index: number } | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { nodeId, index } = value as Record<string, unknown>;
  return typeof nodeId === 'string' && typeof index === 'number' ? { nodeId, index } : undefined;
}

/**
 * The nodes of a FlowGram schema (a WorkflowSchema object or its JSON text), blocks included, in schema
 * order. Anything that is not a schema gives an empty list: the progress list then grows as nodes start.
 */
export function flowNodesOf(schema: unknown): FlowNodeInfo[] {
  let value = schema;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value) as unknown;
    } catch {
      return [];
    }
  }
  const out: FlowNodeInfo[] = [];
  collect(value, undefined, out);
  return out;
}

function collect(container: unknown, parent: string | undefined, out: FlowNodeInfo[]): void {
  if (typeof container !== 'object' || container === null) return;
  const list =
    (container as Record<string, unknown>)['nodes'] ?? (container as Record<string, unknown>)['blocks'];
  if (!Array.isArray(list)) return;
  for (const raw of list) {
    if (typeof raw !== 'object' || raw === null) continue;
    const n = raw as Record<string, unknown>;
    if (typeof n['id'] !== 'string') continue;
    const info: FlowNodeInfo = { id: n['id'] };
    if (typeof n['type'] === 'string') info.type = n['type'];
    const data = n['data'];
    if (typeof data === 'object' && data !== null) {
      const title = (data as Record<string, unknown>)['title'];
      if (typeof title === 'string') info.title = title;
    }
    if (parent !== undefined) info.parent = parent;
    out.push(info);
    if (Array.isArray(n['blocks'])) collect({ nodes: n['blocks'] }, n['id'], out);
  }
}

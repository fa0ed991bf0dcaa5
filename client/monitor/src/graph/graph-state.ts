import { isTerminal, type TaskEvent, type TaskStatus } from '../protocol.js';

export type NodeState = 'waiting' | 'running' | 'succeeded' | 'failed' | 'skipped';

/** Events kept per node for the detail pane; the count goes on past it. */
const MAX_NODE_EVENTS = 200;

export interface NodeRun {
  state: NodeState;
  /** How many times the node started: a loop body or the agent's turns run again and again. */
  runs: number;
  /** A loop: the iterations its body has entered (from the body's node events). */
  iterations?: number;
  inputs?: unknown;
  outputs?: unknown;
  error?: string;
  events: TaskEvent[];
  eventCount: number;
}

const ENTRY = '__start__';
const EXIT = '__end__';

/**
 * The live state of a run's nodes, folded from its events: node_start and node_end move a node, and the events
 * in between (tokens, tool calls) are the running node's. The task's end settles the rest: LangGraph's entry
 * and exit, nodes still running (stopped with it) and nodes never reached (skipped).
 */
export class GraphState {
  private readonly nodes = new Map<string, NodeRun>();
  private readonly running: string[] = [];
  private status: TaskStatus | null = null;
  private started = false;
  /** Bumped on every change, so a view redraws only what moved. */
  version = 0;

  get(id: string): NodeRun {
    let n = this.nodes.get(id);
    if (!n) {
      n = { state: 'waiting', runs: 0, events: [], eventCount: 0 };
      // A node the graph names after events came in (the graph arrives after the replay) starts settled.
      if (id === ENTRY && this.started) n = { ...n, state: 'succeeded', runs: 1 };
      else if (this.status && isTerminal(this.status)) {
        const reached = id === EXIT && this.status === 'succeeded';
        n = { ...n, state: reached ? 'succeeded' : 'skipped', runs: reached ? 1 : 0 };
      }
      this.nodes.set(id, n);
    }
    return n;
  }

  ids(): string[] {
    return [...this.nodes.keys()];
  }

  apply(e: TaskEvent): void {
    this.version += 1;
    if (e.type === 'node_start') {
      const n = this.get(e.data.node);
      n.state = 'running';
      n.runs += 1;
      delete n.error;
      if (e.data.inputs) n.inputs = e.data.inputs;
      if (e.data.loop) {
        const loop = this.get(e.data.loop.nodeId);
        loop.iterations = Math.max(loop.iterations ?? 0, e.data.loop.index + 1);
      }
      this.running.push(e.data.node);
      this.started = true;
      this.settleEntry();
      keep(n, e);
      return;
    }
    if (e.type === 'node_end') {
      const n = this.get(e.data.node);
      if (n.runs === 0) n.runs = 1;
      const failed = e.data.status === 'failed' || e.data.error !== undefined;
      n.state = e.data.status === 'canceled' ? 'failed' : failed ? 'failed' : 'succeeded';
      if (e.data.error) n.error = e.data.error;
      if (e.data.inputs) n.inputs = e.data.inputs;
      const out = e.data.outputs ?? e.data.output;
      if (out !== undefined) n.outputs = out;
      const at = this.running.lastIndexOf(e.data.node);
      if (at >= 0) this.running.splice(at, 1);
      keep(n, e);
      return;
    }
    if (e.type === 'status') {
      this.status = e.data.status;
      if (isTerminal(e.data.status)) this.settle(e.data.status);
      return;
    }
    // Tokens, tool calls and output belong to the node running now (the innermost one).
    const current = this.running.at(-1);
    if (current === undefined) return;
    const n = this.get(current);
    if (e.type === 'tool_start') n.inputs = mergeCall(n.inputs, e.data.name, e.data.args);
    if (e.type === 'tool_result') n.outputs = mergeCall(n.outputs, e.data.name, e.data.result);
    keep(n, e);
  }

  private settleEntry(): void {
    const entry = this.nodes.get(ENTRY);
    if (entry && entry.state === 'waiting') {
      entry.state = 'succeeded';
      entry.runs = 1;
    }
  }

  private settle(status: TaskStatus): void {
    const ok = status === 'succeeded';
    for (const [id, n] of this.nodes) {
      if (id === EXIT) {
        n.state = ok ? 'succeeded' : 'skipped';
        if (ok) n.runs = Math.max(1, n.runs);
      } else if (n.state === 'running') n.state = ok ? 'succeeded' : 'failed';
      else if (n.state === 'waiting') n.state = 'skipped';
    }
    this.running.length = 0;
  }
}

function keep(n: NodeRun, e: TaskEvent): void {
  n.eventCount += 1;
  if (n.events.length < MAX_NODE_EVENTS) n.events.push(e);
  else if (e.type !== 'token') {
    n.events.shift();
    n.events.push(e);
  }
}

/** A tools node's inputs/outputs: one entry per call, by tool name (a list when a tool runs more than once). */
function mergeCall(prev: unknown, name: string, value: unknown): unknown {
  const base =
    typeof prev === 'object' && prev !== null && !Array.isArray(prev) ? { ...(prev as object) } : {};
  const rec = base as Record<string, unknown>;
  rec[name] = value;
  return rec;
}

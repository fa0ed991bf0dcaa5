import { type FlowDocument, type FlowNode, successors } from './document.js';
import type { RunState } from './state.js';

/** Which loop iteration a node ran in (innermost loop). */
export interface LoopAt {
  nodeId: string;
  index: number;
}

export interface NodeResult {
  outputs: Record<string, unknown>;
  branch?: string | undefined;
}

/** What a node executor gets: its resolved inputs, the run's state and signal, and a way back to the engine. */
export interface NodeContext {
  node: FlowNode;
  inputs: Record<string, unknown>;
  state: RunState;
  engine: FlowEngine;
  signal: AbortSignal;
  loop: LoopAt | undefined;
  /** Replaces the snapshot's inputs with what the node actually used (the http node's resolved request). */
  setInputs(inputs: Record<string, unknown>): void;
  token(text: string): void;
}

export interface Disposable {
  dispose(): void;
}

export type NodeExecutor = (ctx: NodeContext) => Promise<NodeResult>;

export interface NodeStartEvent {
  node: FlowNode;
  inputs: Record<string, unknown> | undefined;
  loop: LoopAt | undefined;
}
export interface NodeEndEvent {
  node: FlowNode;
  status: 'succeeded' | 'failed' | 'canceled';
  outputs?: Record<string, unknown>;
  inputs?: Record<string, unknown>;
  branch?: string;
  error?: string;
  loop: LoopAt | undefined;
}

export interface EngineHooks {
  nodeStart(e: NodeStartEvent): void;
  nodeEnd(e: NodeEndEvent): void;
  token(node: FlowNode, text: string): void;
}

/** Thrown through the node chain once the run was stopped: not a node failure. */
export class RunAborted extends Error {
  constructor() {
    super('the run was stopped');
    this.name = 'RunAborted';
  }
}

/** Node types after which a branch of execution ends without needing a next node. */
const TERMINATING = new Set(['end', 'block-end', 'break', 'continue']);

/**
 * Runs a FlowGram document the way FlowGram's runtime does: a node runs once every node before it has run
 * (or was skipped by a condition), the nodes after it run in parallel, a condition follows the port of its
 * first true condition (else `else`) and marks what only the other ports lead to as skipped, so joins wait
 * for live branches only. Loops run their block once per item in a child state.
 */
export class FlowEngine {
  private readonly controller = new AbortController();
  private readonly inflight = new Map<string, NodeStartEvent>();
  private readonly resources = new Map<string, Disposable>();
  private ended = false;
  /** The first node that failed (it names the run's error). */
  failed: { nodeId: string; message: string } | undefined;
  /** The workflow's inputs (the start node's outputs). */
  inputs: Record<string, unknown> = {};
  /** The end node's inputs: the workflow's result. */
  outputs: Record<string, unknown> = {};

  constructor(
    readonly doc: FlowDocument,
    private readonly executors: ReadonlyMap<string, NodeExecutor>,
    private readonly hooks: EngineHooks,
  ) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Runs from the start node; resolves with the end node's outputs. */
  async run(state: RunState, inputs: Record<string, unknown>): Promise<Record<string, unknown>> {
    this.inputs = inputs;
    try {
      await this.executeNode(this.doc.start, state, undefined);
    } finally {
      this.release();
    }
    return this.outputs;
  }

  /**
   * Something a node keeps for the rest of the run under `key` (a code node's sandbox session, reused by
   * every iteration of its loop): made on first use, disposed when the run ends or is stopped.
   */
  resource<T extends Disposable>(key: string, make: () => T): T {
    if (this.ended || this.signal.aborted) throw new RunAborted();
    let found = this.resources.get(key) as T | undefined;
    if (!found) {
      found = make();
      this.resources.set(key, found);
    }
    return found;
  }

  private release(): void {
    this.ended = true;
    for (const r of this.resources.values()) r.dispose();
    this.resources.clear();
  }

  /** Stops the run: nodes in flight end `canceled` now, and their model streams, requests and code are aborted. */
  stop(reason: unknown): void {
    if (this.controller.signal.aborted) return;
    for (const e of this.inflight.values())
      this.hooks.nodeEnd({ node: e.node, status: 'canceled', loop: e.loop });
    this.inflight.clear();
    this.controller.abort(reason);
    this.release();
  }

  async executeNode(node: FlowNode, state: RunState, loop: LoopAt | undefined): Promise<void> {
    if (!node.prev.every((p) => state.executed.has(p.id))) return; // a join: the last branch in runs it
    if (this.signal.aborted) throw new RunAborted();
    let inputs: Record<string, unknown> | undefined;
    let started: NodeStartEvent = { node, inputs: undefined, loop };
    let next: FlowNode[];
    let usedInputs: Record<string, unknown> | undefined;
    try {
      inputs = state.parseInputs(node.declare.inputsValues, node.declare.inputs);
      started = { node, inputs, loop };
      this.hooks.nodeStart(started);
      this.inflight.set(node.id, started);
      const executor = this.executors.get(node.type);
      if (!executor) throw new Error(`No executor found for node type ${node.type}`);
      const result = await executor({
        node,
        inputs,
        state,
        engine: this,
        signal: this.signal,
        loop,
        setInputs: (i) => {
          usedInputs = i;
        },
        token: (text) => {
          if (!this.signal.aborted) this.hooks.token(node, text);
        },
      });
      if (this.signal.aborted) throw new RunAborted();
      this.inflight.delete(node.id);
      state.setNodeOutputs(node.id, node.declare.outputs, result.outputs);
      state.executed.add(node.id);
      this.hooks.nodeEnd({
        node,
        status: 'succeeded',
        outputs: result.outputs,
        ...(usedInputs ? { inputs: usedInputs } : {}),
        ...(result.branch ? { branch: result.branch } : {}),
        loop,
      });
      next = this.nextNodes(node, result.branch, state);
    } catch (err) {
      if (err instanceof RunAborted || this.signal.aborted) throw new RunAborted();
      if (!this.inflight.has(node.id)) this.hooks.nodeStart(started);
      this.inflight.delete(node.id);
      const message = err instanceof Error ? err.message : 'An unknown error occurred';
      this.failed ??= { nodeId: node.id, message };
      this.hooks.nodeEnd({
        node,
        status: 'failed',
        error: message,
        ...(usedInputs ? { inputs: usedInputs } : {}),
        loop,
      });
      throw err;
    }
    if (TERMINATING.has(node.type)) return;
    if (next.length === 0) throw new NodeChainError(node.id);
    await Promise.all(next.map((n) => this.executeNode(n, state, loop)));
  }

  private nextNodes(node: FlowNode, branch: string | undefined, state: RunState): FlowNode[] {
    if (!branch) return node.next;
    const taken = node.ports.get(branch);
    if (!taken) throw new Error(`Branch "${branch}" not found`);
    const takenIds = new Set(taken.map((n) => n.id));
    const live = new Set<string>();
    for (const n of node.next.filter((x) => takenIds.has(x.id))) {
      live.add(n.id);
      for (const s of successors(n)) live.add(s.id);
    }
    // Nodes reachable only through ports not taken will never run: count them as done so joins proceed.
    for (const n of node.next.filter((x) => !takenIds.has(x.id))) {
      for (const s of [n, ...successors(n)]) if (!live.has(s.id)) state.executed.add(s.id);
    }
    return node.next.filter((x) => takenIds.has(x.id));
  }
}

/** A node that is neither an end nor followed by anything: the workflow cannot go on. */
export class NodeChainError extends Error {
  constructor(readonly nodeId: string) {
    super(`Node "${nodeId}" has no next nodes`);
  }
}

import { z } from 'zod';
import { WaitReason } from './tasks.js';

/**
 * A run's graph as the monitor draws it: the nodes and edges of a workflow's LangGraph graph or of a FlowGram
 * schema. Node ids are the ids the run's `node_start` / `node_end` events name, so a viewer colours a node by
 * folding those events; `__start__` and `__end__` are LangGraph's entry and exit.
 */
export const RunGraphNode = z.object({
  id: z.string(),
  label: z.string(),
  /** LangGraph: `start`, `end` or `node`; FlowGram: the node type (`llm`, `code`, `loop`, ...). */
  type: z.string(),
  /** FlowGram: the loop (or other block node) this node sits inside. */
  parent: z.string().optional(),
});
export type RunGraphNode = z.infer<typeof RunGraphNode>;

export const RunGraphEdge = z.object({
  source: z.string(),
  target: z.string(),
  /** The branch or port the edge leaves by (a condition's port, a LangGraph route). */
  label: z.string().optional(),
  /** Taken only when a condition routes there. */
  conditional: z.boolean(),
});
export type RunGraphEdge = z.infer<typeof RunGraphEdge>;

export const RunGraph = z.object({
  source: z.enum(['langgraph', 'flowgram']),
  /** The workflow's name, or `flowgram` for a schema. */
  name: z.string(),
  nodes: z.array(RunGraphNode),
  edges: z.array(RunGraphEdge),
});
export type RunGraph = z.infer<typeof RunGraph>;

/** The states a viewer colours a node by, folded from the run's node events. */
export const GraphNodeState = z.enum(['waiting', 'running', 'succeeded', 'failed', 'skipped']);
export type GraphNodeState = z.infer<typeof GraphNodeState>;

/** Feed note (monitor `/monitor` feed): why a queued task waits, each time the reason changes. */
export const TaskWaiting = z.object({ taskId: z.string(), reason: WaitReason, message: z.string() });
export type TaskWaiting = z.infer<typeof TaskWaiting>;

import { HubError } from '../errors.js';
import type { RunGraph } from '../protocol/graph.js';
import type { Task } from '../protocol/tasks.js';
import type { WorkflowRegistry } from './registry.js';
import { flowgramGraph } from './run-graph.js';

/**
 * The graph a task runs: its workflow's LangGraph graph, or the nodes and edges of its FlowGram schema (as
 * stored with the task). Code and plugin tasks have none: not_found, saying so.
 */
export function taskGraph(task: Task, workflows: WorkflowRegistry): RunGraph {
  if (task.kind === 'flowgram') return flowgramGraph(schemaOf(task.input['schema']));
  if (task.kind === 'workflow') {
    const name = task.input['workflow'];
    if (typeof name === 'string') return workflows.graph(name, 'workflow');
  }
  throw new HubError(
    'not_found',
    `task ${task.id} is a ${task.kind} task: only workflow and flowgram tasks have a graph`,
  );
}

function schemaOf(schema: unknown): unknown {
  if (typeof schema !== 'string') return schema;
  try {
    return JSON.parse(schema) as unknown;
  } catch {
    return null;
  }
}

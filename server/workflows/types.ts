import type { z } from 'zod';
import type { ChatModel, Usage } from '../llm/types.js';
import type { Logger } from '../log.js';
import type { RunGraph } from '../protocol/graph.js';
import type { WorkflowPayload } from '../protocol/workflows.js';
import type { Tool } from '../tools/index.js';
import type { RunEvents } from './run-events.js';

/** Everything one run of a workflow works with; built by the WorkflowService, dropped when the run ends. */
export interface WorkflowRun {
  readonly taskId: string;
  readonly traceId: string;
  /** Aborted on cancel, timeout or hub shutdown; its reason is a RunStopped. */
  readonly signal: AbortSignal;
  readonly model: ChatModel;
  readonly events: RunEvents;
  readonly logger: Logger;
  /** The tools the payload asked for, plus any the workflow names itself. */
  tools(extra?: readonly string[]): Tool[];
  /** Replaces the run's secrets in text a tool or model produced before it travels further. */
  scrub<T>(value: T): T;
  /** Adds one model turn's token counts to the run's total. */
  addUsage(usage: Usage | null): void;
}

/** How a run ended well: the `done` event and the task's result. */
export interface WorkflowOutcome {
  result: unknown;
  finishReason?: string | undefined;
}

/** A registered workflow: a name, a zod schema for its input, and a LangGraph graph it runs. */
export interface WorkflowDefinition<P extends WorkflowPayload = WorkflowPayload> {
  readonly name: string;
  readonly description: string;
  readonly inputSchema: z.ZodType<P>;
  run(input: P, run: WorkflowRun): Promise<WorkflowOutcome>;
  /** The graph it runs, as the monitor draws it (node ids are those of its node events). */
  graph?(): RunGraph;
}

/** Why a run was stopped from outside: control flow, not failure (the task is ended by whoever stopped it). */
export class RunStopped extends Error {
  override readonly name = 'RunStopped';
  constructor(readonly why: 'cancelled' | 'timed_out' | 'shutdown') {
    super(`workflow run stopped: ${why}`);
  }
}

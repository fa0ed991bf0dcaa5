import { WorkflowPayload } from '../protocol/workflows.js';
import { type AgentState, agentGraphShape, runAgent } from './agent-graph.js';
import { toLlmMessages } from './messages.js';
import type { WorkflowDefinition, WorkflowOutcome } from './types.js';

/** The execution plane's chat agent: the payload's messages and tools, in a tool loop until the model answers. */
export function agentChat(defaults: { maxIterations: number }): WorkflowDefinition {
  return {
    name: 'agent_chat',
    description:
      'Chat with a model that may call tools (native, HTTP from the payload, kit_execute) until it answers.',
    inputSchema: WorkflowPayload,
    graph: () => agentGraphShape('agent_chat'),
    async run(payload, run) {
      const rc = payload.runtime_config;
      const state = await runAgent(run, toLlmMessages(payload.input.messages, payload.input.variables), {
        tools: run.tools(),
        maxIterations: rc.max_iterations ?? defaults.maxIterations,
        budgets: { kit_execute: rc.kit.max_attempts },
      });
      return outcomeOf(state);
    },
  };
}

/** The answer and how the loop ended; a loop cut off while still calling tools says so. */
export function outcomeOf(state: AgentState, extra: Record<string, unknown> = {}): WorkflowOutcome {
  const turn = state.lastTurn;
  const toolCalls = Object.values(state.toolUses).reduce((n, k) => n + k, 0);
  const cutOff = (turn?.toolCalls.length ?? 0) > 0;
  return {
    result: { content: turn?.content ?? '', iterations: state.iterations, toolCalls, ...extra },
    finishReason: cutOff ? 'max_iterations' : (turn?.finishReason ?? 'stop'),
  };
}

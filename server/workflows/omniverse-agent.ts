import type { LlmMessage } from '../llm/types.js';
import { WorkflowPayload } from '../protocol/workflows.js';
import { outcomeOf } from './agent-chat.js';
import { agentGraphShape, runAgent } from './agent-graph.js';
import { toLlmMessages } from './messages.js';
import type { WorkflowDefinition } from './types.js';

function systemPrompt(maxAttempts: number): string {
  return [
    'You operate NVIDIA Omniverse Kit for the user by writing Python and running it with the kit_execute tool.',
    'Use the Kit APIs (omni.usd, omni.kit.commands, pxr: Usd, UsdGeom, Sdf, Gf). Print what you find; the',
    'value of the last expression is returned to you.',
    `If a run fails, read the error and traceback, fix the code and run it again (at most ${maxAttempts} runs).`,
    'When the task is done, or you have run out of attempts, tell the user briefly what you did and what',
    'the result was. Do not claim success the output does not show.',
  ].join(' ');
}

/**
 * The Kit agent: the model writes Kit Python for the request, runs it through kit_execute (a child code task
 * on an extension), reads the result or traceback, fixes and retries within `runtime_config.kit.max_attempts`,
 * then reports. The run's result says whether the last attempt succeeded.
 */
export function omniverseAgent(defaults: { maxIterations: number }): WorkflowDefinition {
  return {
    name: 'omniverse_agent',
    description:
      'Writes Kit Python for your request, runs it on an extension, fixes and retries on errors, and reports.',
    inputSchema: WorkflowPayload,
    graph: () => agentGraphShape('omniverse_agent'),
    async run(payload, run) {
      const rc = payload.runtime_config;
      const attempts = rc.kit.max_attempts;
      const hasSystem = payload.input.messages.some((m) => m.role === 'system');
      const messages: LlmMessage[] = [
        ...(hasSystem ? [] : [{ role: 'system' as const, content: systemPrompt(attempts) }]),
        ...toLlmMessages(payload.input.messages, payload.input.variables),
      ];
      const state = await runAgent(run, messages, {
        tools: run.tools(['kit_execute']),
        // Every attempt is a turn, plus one to answer: a small default limit must not cut the fixing short.
        maxIterations: rc.max_iterations ?? Math.max(defaults.maxIterations, attempts + 2),
        budgets: { kit_execute: attempts },
      });
      const last = state.lastResults['kit_execute'];
      return outcomeOf(state, {
        attempts: state.toolUses['kit_execute'] ?? 0,
        succeeded: last ? !last.isError : false,
        lastRun: last?.result ?? null,
      });
    },
  };
}

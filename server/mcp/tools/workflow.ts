import { z } from 'zod';
import type { HubContext } from '../../context.js';
import { followTask } from '../follow.js';
import { defineTool, jsonResult, type McpTool } from '../types.js';

export function runWorkflowTool(hub: HubContext): McpTool {
  const names = hub.workflows.registry.names();
  return defineTool({
    name: 'run_workflow',
    title: 'Run a Switchboard workflow',
    description:
      `Runs a registered LangGraph workflow (${names.join(', ')}) as a workflow task with one user message. ` +
      'Model tokens stream as notifications (logger "token"), tool calls as "tool" messages; the result is ' +
      "the workflow's answer. Cancelling the call cancels the run (model stream, tools and child tasks).",
    action: 'submit',
    input: z
      .object({
        workflow: z
          .string()
          .min(1)
          .max(128)
          .default('agent_chat')
          .describe(`One of: ${names.join(', ')}`),
        message: z.string().min(1, 'message is empty').max(1_000_000).describe('The user message'),
        model: z.string().min(1).max(200).optional().describe("Model name (the hub's default when absent)"),
      })
      .strict(),
    annotations: { openWorldHint: true },
    async run(args, call) {
      const task = hub.workflows.start(args.workflow, {
        message: args.message,
        ...(args.model ? { model: args.model } : {}),
      });
      const { notify } = call;
      const ended = await followTask(call, task.id, (e) => {
        if (e.type === 'token') notify.token(task.id, e.data.text);
        else if (e.type === 'output') notify.output(task.id, e.data.stream, e.data.text);
        else if (e.type === 'tool_start' || e.type === 'tool_result') {
          notify.log('info', 'tool', { taskId: task.id, type: e.type, ...e.data });
        } else if (e.type === 'status') notify.log('debug', 'status', { taskId: task.id, ...e.data });
      });
      await notify.flush();
      return jsonResult(
        {
          taskId: ended.id,
          status: ended.status,
          result: ended.result ?? null,
          error: ended.error ?? null,
        },
        ended.status !== 'succeeded',
      );
    },
  });
}

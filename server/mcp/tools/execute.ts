import { z } from 'zod';
import type { HubContext } from '../../context.js';
import { HubError } from '../../errors.js';
import { defineTool, jsonResult, type McpTool } from '../types.js';
import { codeOutcome, runCode, targetFields, timeoutField } from './code.js';

export function executePythonTool(hub: HubContext): McpTool {
  return defineTool({
    name: 'execute_python',
    title: 'Run Python on an Omniverse extension',
    description:
      'Runs Python on a connected extension (Kit app or Python host) as a Switchboard code task, under the ' +
      "hub's safety policy. stdout/stderr stream as notifications while it runs; the result holds the value " +
      'of the last expression, the whole output and, on failure, the traceback. Cancelling the call cancels ' +
      'the task. In Kit, `omni`, `carb`, `pxr` and `stage` are at hand; top-level `await` works.',
    action: 'submit',
    input: z
      .object({
        code: z.string().min(1, 'code is empty').describe('Python source; the last expression is the result'),
        ...targetFields,
        timeout: timeoutField(hub),
      })
      .strict(),
    annotations: { destructiveHint: true, openWorldHint: true },
    async run(args, call) {
      const target = {
        ...(args.extensionId ? { extensionId: args.extensionId } : {}),
        ...(args.label ? { label: args.label } : {}),
      };
      try {
        const run = await runCode(call, { code: args.code, target, timeoutS: args.timeout });
        return jsonResult(codeOutcome(run), run.task.status !== 'succeeded');
      } catch (err) {
        // The policy's refusal is about the code the model wrote: a tool error it can read and fix.
        if (err instanceof HubError && err.code === 'policy_denied') {
          return jsonResult({ status: 'refused', error: err.toBody() }, true);
        }
        throw err;
      }
    },
  });
}

import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { StartWorkflow, TaskEvent } from '../../../server/protocol/index.js';
import type { SwitchboardClient } from '../../sdk/index.js';
import { onePositional, UsageError } from '../args.js';
import { defineCommand } from '../command.js';
import { exitForStatus } from '../exit-codes.js';
import type { Output } from '../output.js';

export const runCommand = defineCommand({
  name: 'run',
  summary: 'Run a workflow (add --follow to stream its tokens and tool calls)',
  usage:
    'run WORKFLOW (--message TEXT | --input FILE) [--model NAME --base-url URL --api-key KEY] [--tool NAME]... [--follow]',
  description:
    'Starts a workflow run (agent_chat, omniverse_agent, ...). Without --follow it prints the task id and exits 0;\n' +
    "with --follow it prints the model's tokens as they arrive, tool calls as lines on stderr, and exits with\n" +
    "the outcome. --input FILE gives the whole payload ({task_meta, input, runtime_config}); '-' reads stdin.\n" +
    'Without --model the hub uses its configured model, or its built-in switchboard-demo model.',
  options: {
    message: { type: 'string', short: 'm' },
    input: { type: 'string' },
    model: { type: 'string' },
    'base-url': { type: 'string' },
    'api-key': { type: 'string' },
    tool: { type: 'string', multiple: true },
    follow: { type: 'boolean', short: 'f' },
  },
  optionHelp: [
    ['-m, --message TEXT', 'The user message'],
    ['--input FILE', 'The payload as JSON (a file, or - for stdin)'],
    ['--model NAME', 'Model name (runtime_config.model.model_name)'],
    ['--base-url URL', 'OpenAI-compatible base URL for this run'],
    ['--api-key KEY', "API key for that URL (env SWITCHBOARD_LLM_API_KEY is the hub's own)"],
    ['--tool NAME', 'Offer a native tool (get_time, calculator, kit_execute); repeatable'],
    ['-f, --follow', 'Stream tokens and tool calls and wait for the outcome'],
  ],
  examples: [
    'switchboard run agent_chat -m "What is 17 * 23?" --tool calculator --follow',
    'switchboard run omniverse_agent -m "Add a cube at the origin" --follow',
    'switchboard run agent_chat -m hi --model llama3 --base-url http://localhost:11434/v1 --follow --json',
  ],
  async run({ values, positionals, out, env, client }) {
    const workflow = onePositional(positionals, 'WORKFLOW');
    const request = await buildRequest(workflow, values, env.cwd, env.readStdin);
    const hub = await client();
    await hub.connect();
    const task = await hub.startWorkflow(request);
    if (!values.follow) {
      if (out.json) out.record({ type: 'task', ...task });
      else out.print(task.id);
      return 0;
    }
    out.note(`[task] ${task.id}`);
    return follow(hub, out, task.id);
  },
});

interface RunValues {
  message?: string | undefined;
  input?: string | undefined;
  model?: string | undefined;
  'base-url'?: string | undefined;
  'api-key'?: string | undefined;
  tool?: string[] | undefined;
}

async function buildRequest(
  workflow: string,
  values: RunValues,
  cwd: string,
  readStdin: () => Promise<string>,
): Promise<StartWorkflow> {
  if (values.message === undefined && values.input === undefined)
    throw new UsageError('give --message TEXT or --input FILE');
  const payload = values.input === undefined ? {} : await readPayload(values.input, cwd, readStdin);
  const rc = isObject(payload['runtime_config']) ? { ...payload['runtime_config'] } : {};
  const model = isObject(rc['model']) ? { ...rc['model'] } : {};
  if (values.model !== undefined) model['model_name'] = values.model;
  if (values['base-url'] !== undefined) model['base_url'] = values['base-url'];
  if (values['api-key'] !== undefined) model['api_key'] = values['api-key'];
  if (Object.keys(model).length > 0) rc['model'] = model;
  if (values.tool?.length) rc['tools'] = [...(Array.isArray(rc['tools']) ? rc['tools'] : []), ...values.tool];
  const request: StartWorkflow = { workflow };
  if (payload['task_meta'] !== undefined) request.task_meta = payload['task_meta'];
  if (payload['input'] !== undefined) request.input = payload['input'];
  if (values.message !== undefined) request.message = values.message;
  if (Object.keys(rc).length > 0) request.runtime_config = rc;
  return request;
}

async function readPayload(
  file: string,
  cwd: string,
  readStdin: () => Promise<string>,
): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = file === '-' ? await readStdin() : await readFile(resolve(cwd, file), 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UsageError(`--input ${file} is not valid JSON`);
  }
  if (!isObject(json)) throw new UsageError(`--input ${file} must hold a JSON object`);
  return json;
}

/** `workflow:start` over the socket, its ack checked against the contract. */
/**
 * Prints the run as it happens. Unlike `watch`, the final result is not printed again in human mode: the
 * answer has already streamed as tokens.
 */
async function follow(hub: SwitchboardClient, out: Output, taskId: string): Promise<number> {
  let lastToken: TaskEvent | undefined;
  for await (const event of hub.follow(taskId)) {
    if (event.type === 'token') lastToken = event;
    out.event(event);
  }
  // End the streamed answer's line, so the shell prompt does not glue onto it.
  if (lastToken?.type === 'token' && !lastToken.data.text.endsWith('\n') && !out.json) {
    out.event({ ...lastToken, data: { text: '\n' } });
  }
  const task = await hub.get(taskId);
  out.outcome(out.json ? task : { ...task, result: null });
  return exitForStatus(task.status);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

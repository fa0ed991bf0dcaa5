import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { FlowNodeProgress, SwitchboardClient } from '../../sdk/index.js';
import { UsageError } from '../args.js';
import { defineCommand } from '../command.js';
import { EXIT, exitForStatus } from '../exit-codes.js';
import { stepLine, summaryLine } from '../flow-lines.js';
import type { Output } from '../output.js';

const ACTIONS = ['run', 'validate'] as const;

export const flowCommand = defineCommand({
  name: 'flow',
  summary: 'Run or validate a FlowGram workflow schema (run --follow shows nodes live)',
  usage: 'flow (run | validate) SCHEMA.json [--inputs FILE] [--follow]',
  description:
    'flow run starts a FlowGram schema as a flowgram task. Without --follow it prints the task id and exits 0;\n' +
    'with --follow it prints one line per node start and end (status, duration, loop iteration #N), then\n' +
    'the result on stdout, and exits with the outcome: 0 succeeded, 1 failed, 3 cancelled, 4 timed out.\n' +
    'flow validate checks the schema (and --inputs against its start node) without running it: exit 0 when\n' +
    "valid, 1 listing each error (naming the node and field). '-' reads a file from stdin.",
  options: {
    inputs: { type: 'string', short: 'i' },
    follow: { type: 'boolean', short: 'f' },
  },
  optionHelp: [
    ['-i, --inputs FILE', "The start node's inputs as a JSON object (a file, or - for stdin)"],
    ['-f, --follow', 'Show nodes as they run and wait for the outcome (flow run)'],
  ],
  examples: [
    'switchboard flow validate schema.json',
    'switchboard flow validate schema.json --inputs inputs.json',
    'switchboard flow run schema.json --inputs inputs.json --follow',
    'switchboard flow run schema.json -i - --follow --json < inputs.json',
  ],
  async run({ values, positionals, out, env, client }) {
    const [action, file, extra] = positionals;
    if (action === undefined) throw new UsageError(`missing action: ${ACTIONS.join(' or ')}`);
    if (!(ACTIONS as readonly string[]).includes(action)) {
      throw new UsageError(`unknown action '${action}' (expected ${ACTIONS.join(' or ')})`);
    }
    if (file === undefined) throw new UsageError('missing SCHEMA.json');
    if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}'`);
    if (file === '-' && values.inputs === '-')
      throw new UsageError('only one of SCHEMA and --inputs can be -');
    const schema = await readJson(file, 'SCHEMA', env.cwd, env.readStdin);
    const inputs: Record<string, unknown> =
      values.inputs === undefined
        ? {}
        : (await readJson(values.inputs, '--inputs', env.cwd, env.readStdin)).value;
    const hub = await client();
    if (action === 'validate') return validate(hub, out, schema.text, inputs);
    if (values.follow) await hub.connect();
    const task = await hub.runFlow(schema.text, inputs);
    if (!values.follow) {
      if (out.json) out.record({ type: 'task', ...task });
      else out.print(task.id);
      return EXIT.succeeded;
    }
    out.note(`[task] ${task.id}`);
    return follow(hub, out, task.id);
  },
});

async function validate(
  hub: SwitchboardClient,
  out: Output,
  schema: string,
  inputs: Record<string, unknown>,
): Promise<number> {
  const answer = await hub.validateFlow(schema, inputs);
  const errors = answer.errors ?? [];
  if (out.json) {
    out.record({ type: 'validation', valid: answer.valid, errors });
  } else if (answer.valid) {
    out.print(out.paint('green', '✔ valid'));
  } else {
    for (const error of errors) out.print(out.paint('red', `✖ ${error}`));
    out.print(out.paint('red', `invalid: ${errors.length} error${errors.length === 1 ? '' : 's'}`));
  }
  return answer.valid ? EXIT.succeeded : EXIT.failed;
}

async function follow(hub: SwitchboardClient, out: Output, taskId: string): Promise<number> {
  let nodes: FlowNodeProgress[] = [];
  for await (const { event, step, progress } of hub.followFlow(taskId)) {
    nodes = progress.nodes;
    if (!step) {
      out.event(event);
      continue;
    }
    if (out.json) {
      out.record(event);
      const { node } = step;
      out.record({
        type: 'flow_node',
        kind: step.kind,
        node: node.id,
        nodeType: node.type,
        state: node.state,
        run: step.run,
        ms: step.ms,
        error: node.error,
      });
    } else {
      out.step(stepLine(step, (colour, text) => out.paint(colour, text)));
    }
  }
  out.step(summaryLine(nodes));
  const task = await hub.get(taskId);
  out.outcome(task);
  return exitForStatus(task.status);
}

interface JsonFile {
  text: string;
  value: Record<string, unknown>;
}

async function readJson(
  file: string,
  what: string,
  cwd: string,
  readStdin: () => Promise<string>,
): Promise<JsonFile> {
  let text: string;
  try {
    text = file === '-' ? await readStdin() : await readFile(resolve(cwd, file), 'utf8');
  } catch (err) {
    throw new UsageError(
      `cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${what} ${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(`${what} ${file} must hold a JSON object`);
  }
  return { text, value: value as Record<string, unknown> };
}

import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseExecTarget, SubmitCode, Target } from '../../../server/protocol/index.js';
import { numberOption, UsageError } from '../args.js';
import { defineCommand } from '../command.js';
import { followTask } from '../follow-task.js';

/** Contract field -> the flag a user typed, so validation errors name what to fix. */
const FLAG_FOR_FIELD: Record<string, string> = {
  code: 'code',
  target: '--target',
  timeoutMs: '--timeout',
  retries: '--retries',
};

export const execCommand = defineCommand({
  name: 'exec',
  summary: 'Run Python on an extension (add --follow to stream its output)',
  usage: 'exec FILE | -c CODE [--target ID|label:NAME] [--timeout SECONDS] [--retries N] [--follow]',
  description:
    'Submits Python code as a task. Without --follow it prints the task id and exits 0; with --follow it\n' +
    "streams the task's output and exits with its outcome (0 succeeded, 1 failed, 3 cancelled, 4 timed out).\n" +
    "FILE '-' reads the code from standard input.",
  options: {
    code: { type: 'string', short: 'c' },
    target: { type: 'string' },
    timeout: { type: 'string' },
    retries: { type: 'string' },
    follow: { type: 'boolean', short: 'f' },
  },
  optionHelp: [
    ['-c, --code CODE', 'Python source to run instead of FILE'],
    ['--target ID|label:NAME', 'Run on this extension id, or on any extension with this label'],
    ['--timeout SECONDS', 'Stop the task after this long (hub default otherwise)'],
    ['--retries N', 'Extra attempts if the extension is lost mid-job (0-10)'],
    ['-f, --follow', 'Stream output and wait for the outcome'],
  ],
  examples: [
    "switchboard exec -c 'print(1 + 1)' --follow",
    'switchboard exec scene_stats.py --target label:render --timeout 30 --follow',
    'cat job.py | switchboard exec - --json --follow',
  ],
  async run({ values, positionals, out, env, client }) {
    const code = await readCode(values.code, positionals, env.cwd, env.readStdin);
    const body = toSubmission(code, values);
    const hub = await client();
    if (!values.follow) {
      const task = await hub.submit(body);
      if (out.json) out.record({ type: 'task', ...task });
      else out.print(task.id);
      return 0;
    }
    // Dial first: a hub we cannot follow should not be left running an orphan task.
    await hub.connect();
    const task = await hub.submit(body);
    out.note(`[task] ${task.id}`);
    return followTask(hub, out, task.id);
  },
});

async function readCode(
  inline: string | undefined,
  positionals: string[],
  cwd: string,
  readStdin: () => Promise<string>,
): Promise<string> {
  if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}'`);
  const file = positionals[0];
  if (inline !== undefined && file !== undefined)
    throw new UsageError('give either FILE or -c CODE, not both');
  if (inline === undefined && file === undefined) throw new UsageError('missing FILE or -c CODE');
  let code: string;
  if (inline !== undefined) code = inline;
  else if (file === '-') code = await readStdin();
  else {
    try {
      code = await readFile(resolve(cwd, file!), 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }
  if (code.trim() === '') throw new UsageError('the code is empty');
  return code;
}

function toSubmission(
  code: string,
  values: { target?: string | undefined; timeout?: string | undefined; retries?: string | undefined },
): SubmitCode {
  const body: SubmitCode = { code };
  if (values.target !== undefined) body.target = parseTarget(values.target);
  if (values.timeout !== undefined) {
    body.timeoutMs = Math.round(numberOption('--timeout', values.timeout) * 1000);
    if (body.timeoutMs <= 0) throw new UsageError('--timeout must be more than 0 seconds');
  }
  if (values.retries !== undefined)
    body.retries = numberOption('--retries', values.retries, { integer: true, min: 0 });
  const checked = SubmitCode.safeParse(body);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    const field = String(issue?.path[0] ?? '');
    throw new UsageError(`${FLAG_FOR_FIELD[field] ?? field}: ${issue?.message ?? 'invalid'}`);
  }
  return body;
}

/** `ID`, `label:NAME` or `any`, as the exec platform spells targets. */
function parseTarget(raw: string): Target {
  let target: unknown;
  try {
    target = parseExecTarget(raw);
  } catch {
    // a malformed label: reported below like any other invalid target
  }
  const parsed = Target.safeParse(target);
  if (!parsed.success) throw new UsageError(`--target '${raw}' is not an extension id or label:NAME`);
  return parsed.data;
}

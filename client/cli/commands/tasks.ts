import { TaskKind, TaskStatus } from '../../../server/protocol/index.js';
import { numberOption, UsageError } from '../args.js';
import { defineCommand } from '../command.js';
import { STATUS_COLOUR } from '../output.js';
import { columns, describeTarget } from './format.js';
import { ago, took } from './when.js';

export const tasksCommand = defineCommand({
  name: 'tasks',
  summary: 'List tasks, newest first',
  usage: 'tasks [--status S] [--kind K] [--extension ID] [--limit N] [--cursor C]',
  description:
    'Lists tasks: status (coloured on a terminal), kind, workflow or tool name, when created, how long it ran,\n' +
    'and for a queued task why it waits (WAITING: no extension online, none with its label, all busy...).\n' +
    'With --json each task is one line (times as ISO strings), then a cursor line when more remain.',
  options: {
    status: { type: 'string' },
    kind: { type: 'string' },
    extension: { type: 'string' },
    limit: { type: 'string' },
    cursor: { type: 'string' },
  },
  optionHelp: [
    ['--status S', `Only tasks in this state (${TaskStatus.options.join(', ')})`],
    ['--kind K', `Only tasks of this kind (${TaskKind.options.join(', ')})`],
    ['--extension ID', 'Only tasks run by this extension'],
    ['--limit N', 'At most N tasks (1-1000, default 100)'],
    ['--cursor C', 'Continue after a previous page'],
  ],
  examples: ['switchboard tasks --status running', 'switchboard tasks --limit 5 --json'],
  async run({ values, positionals, out, client }) {
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const status = oneOf('--status', values.status, TaskStatus.options);
    const kind = oneOf('--kind', values.kind, TaskKind.options);
    const limit =
      values.limit === undefined
        ? undefined
        : numberOption('--limit', values.limit, { integer: true, min: 1 });
    const page = await (await client()).list({
      ...(status && { status }),
      ...(kind && { kind }),
      ...(values.extension && { extensionId: values.extension }),
      ...(limit && { limit }),
      ...(values.cursor && { cursor: values.cursor }),
    });
    if (out.json) {
      for (const task of page.tasks) out.record({ type: 'task_summary', ...task });
      if (page.nextCursor) out.record({ type: 'cursor', nextCursor: page.nextCursor });
      return 0;
    }
    if (page.tasks.length === 0) out.note('no tasks');
    else {
      const now = Date.now();
      const rows = page.tasks.map((t) => [
        t.id,
        out.paint(STATUS_COLOUR[t.status], t.status),
        t.kind,
        t.name ?? '-',
        t.kind === 'code' ? describeTarget(t.target) : '-',
        t.extensionId ?? '-',
        ago(t.createdAt, now),
        took(t, now),
        // Why a queued task has not started (no extension online, none with the label, all busy...).
        t.status === 'queued' && t.waiting ? out.paint('yellow', t.waiting.message) : '',
      ]);
      out.print(
        columns(['ID', 'STATUS', 'KIND', 'NAME', 'TARGET', 'EXTENSION', 'CREATED', 'TOOK', 'WAITING'], rows),
      );
    }
    if (page.nextCursor) out.note(`more: switchboard tasks --cursor ${page.nextCursor}`);
    return 0;
  },
});

function oneOf<T extends string>(
  flag: string,
  raw: string | undefined,
  allowed: readonly T[],
): T | undefined {
  if (raw === undefined) return undefined;
  if ((allowed as readonly string[]).includes(raw)) return raw as T;
  throw new UsageError(`${flag} must be one of ${allowed.join(', ')}; got '${raw}'`);
}

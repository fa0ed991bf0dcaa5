import type { Task } from '../../../server/protocol/index.js';
import { onePositional } from '../args.js';
import { defineCommand } from '../command.js';
import { duration } from '../output.js';
import { describeTarget } from './format.js';

export const statusCommand = defineCommand({
  name: 'status',
  summary: "Show one task's state, result and error",
  usage: 'status ID',
  description:
    "Prints the task's current state. Exits 0 whatever the task's outcome; use 'watch' to wait for it.",
  options: {},
  optionHelp: [],
  examples: ['switchboard status 01J9Z6T4M2', "switchboard status 01J9Z6T4M2 --json | jq -r '.status'"],
  async run({ positionals, out, client }) {
    const id = onePositional(positionals, 'task ID');
    const task = await (await client()).get(id);
    if (out.json) out.record({ type: 'task', ...task });
    else out.print(describe(task));
    return 0;
  },
});

function describe(task: Task): string {
  const rows: Array<[string, string]> = [
    ['id', task.id],
    ['status', task.status],
    ['kind', task.kind],
    ['target', describeTarget(task.target)],
    ['extension', task.extensionId ?? '-'],
    ['attempts', `${task.attempts}/${task.maxAttempts}`],
    ['created', task.createdAt],
  ];
  if (task.startedAt) rows.push(['started', task.startedAt]);
  if (task.endedAt) rows.push(['ended', task.endedAt]);
  const took = duration(task.startedAt ?? task.createdAt, task.endedAt);
  if (took) rows.push(['duration', took]);
  rows.push(['events', String(task.lastSeq)]);
  if (task.error) rows.push(['error', `${task.error.code}: ${task.error.message}`]);
  if (task.result !== null && task.result !== undefined) rows.push(['result', JSON.stringify(task.result)]);
  const lines = rows.map(([k, v]) => `${k.padEnd(10)} ${v}`);
  if (task.error?.traceback) lines.push('', task.error.traceback.trimEnd());
  return lines.join('\n');
}

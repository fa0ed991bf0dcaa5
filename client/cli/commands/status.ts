import type { Task } from '../../../server/protocol/index.js';
import { onePositional } from '../args.js';
import { defineCommand } from '../command.js';
import { exitForStatus } from '../exit-codes.js';
import { duration, type Output, STATUS_COLOUR } from '../output.js';
import { describeTarget } from './format.js';

export const statusCommand = defineCommand({
  name: 'status',
  summary: "Show one task's state, result and error",
  usage: 'status ID',
  description:
    "Prints the task's current state; 'watch' waits for it to end. Exits like 'watch' for a task that\n" +
    'ended: 0 succeeded (or still going), 1 failed, 3 cancelled, 4 timed out.',
  options: {},
  optionHelp: [],
  examples: ['switchboard status 01J9Z6T4M2', "switchboard status 01J9Z6T4M2 --json | jq -r '.status'"],
  async run({ positionals, out, client }) {
    const id = onePositional(positionals, 'task ID');
    const task = await (await client()).get(id);
    if (out.json) out.record({ type: 'task', ...task });
    else out.print(describe(task, out));
    return exitForStatus(task.status);
  },
});

function describe(task: Task, out: Output): string {
  const rows: Array<[string, string]> = [
    ['id', task.id],
    ['status', out.paint(STATUS_COLOUR[task.status], task.status)],
    ['kind', task.kind],
  ];
  // The facts that apply to the kind: where code runs, or what a workflow or tool is.
  const name = task.input['workflow'] ?? task.input['tool'];
  if (typeof name === 'string') rows.push([task.kind === 'plugin' ? 'tool' : 'workflow', name]);
  if (task.kind === 'code') {
    rows.push(['target', describeTarget(task.target)]);
    rows.push(['extension', task.extensionId ?? '-']);
    rows.push(['attempts', `${task.attempts}/${task.maxAttempts}`]);
  }
  if (task.waiting) rows.push(['waiting', task.waiting.message]);
  if (task.parentId)
    rows.push(['parent', task.parentId + (task.parentCallId ? ` (tool call ${task.parentCallId})` : '')]);
  rows.push(['created', task.createdAt]);
  if (task.startedAt) rows.push(['started', task.startedAt]);
  if (task.endedAt) rows.push(['ended', task.endedAt]);
  const took = duration(task.startedAt ?? task.createdAt, task.endedAt);
  if (took) rows.push(['duration', took]);
  rows.push(['events', String(task.lastSeq)]);
  if (task.error) rows.push(['error', `${task.error.code}: ${task.error.message}`]);
  if (task.result !== null && task.result !== undefined) rows.push(['result', JSON.stringify(task.result)]);
  const lines = rows.map(([k, v]) => `${k.padEnd(10)} ${v}`);
  if (task.error?.traceback) lines.push('', out.traceback(task.error.traceback));
  return lines.join('\n');
}

import { numberOption, onePositional } from '../args.js';
import { defineCommand } from '../command.js';
import { followTask } from '../follow-task.js';

export const watchCommand = defineCommand({
  name: 'watch',
  summary: "Stream a task's events (replay, then live) until it ends",
  usage: 'watch ID [--after SEQ]',
  description:
    "Replays the task's events from the start (or after --after SEQ), then follows it live until it ends.\n" +
    'Survives hub reconnects without gaps or repeats. Exits with the outcome: 0 succeeded, 1 failed,\n' +
    '3 cancelled, 4 timed out.',
  options: {
    after: { type: 'string' },
  },
  optionHelp: [['--after SEQ', 'Only events with a seq above SEQ (default 0: everything)']],
  examples: ['switchboard watch 01J9Z6T4M2', 'switchboard watch 01J9Z6T4M2 --json | jq -c .type'],
  async run({ values, positionals, out, client }) {
    const id = onePositional(positionals, 'task ID');
    const afterSeq =
      values.after === undefined ? 0 : numberOption('--after', values.after, { integer: true, min: 0 });
    return followTask(await client(), out, id, afterSeq);
  },
});

import { onePositional } from '../args.js';
import { defineCommand } from '../command.js';

export const cancelCommand = defineCommand({
  name: 'cancel',
  summary: 'Cancel a queued or running task',
  usage: 'cancel ID',
  description:
    "Asks the hub to cancel the task and prints its state. A running task may take a moment to stop;\n'switchboard watch ID' shows when it has.",
  options: {},
  optionHelp: [],
  examples: ['switchboard cancel 01J9Z6T4M2'],
  async run({ positionals, out, client }) {
    const id = onePositional(positionals, 'task ID');
    const task = await (await client()).cancel(id);
    if (out.json) out.record({ type: 'task', ...task });
    else out.print(`${task.id} ${task.status}`);
    return 0;
  },
});

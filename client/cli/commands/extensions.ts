import { UsageError } from '../args.js';
import { defineCommand } from '../command.js';
import { extensionLogs } from './extension-logs.js';
import { columns } from './format.js';

export const extensionsCommand = defineCommand({
  name: 'extensions',
  summary: 'List the extensions known to the hub',
  usage: 'extensions | extensions logs NAME|ID [--follow]',
  description:
    'Lists extensions with their labels, load and host application. STATE is online, offline, paused (its ' +
    'user paused taking jobs) or stuck (a job it was told to stop will not stop; its slot stays busy).',
  options: {
    follow: { type: 'boolean', short: 'f' },
  },
  optionHelp: [['-f, --follow', 'With logs: keep printing new lines until interrupted']],
  examples: [
    'switchboard extensions',
    "switchboard extensions --json | jq -r 'select(.online) | .id'",
    'switchboard extensions logs kit-workstation --follow',
  ],
  async run({ values, positionals, out, client }) {
    if (positionals[0] === 'logs') {
      // The host log the hub keeps per extension (Kit's log, when the bridge's forward_log is on).
      if (positionals.length !== 2)
        throw new UsageError('usage: switchboard extensions logs NAME|ID [--follow]');
      return extensionLogs(await client(), out, positionals[1] as string, values.follow === true);
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const extensions = await (await client()).extensions();
    if (out.json) {
      for (const ext of extensions) out.record({ type: 'extension', ...ext });
      return 0;
    }
    if (extensions.length === 0) {
      out.note('no extensions');
      return 0;
    }
    const rows = extensions.map((e) => [
      e.id,
      e.name,
      // A stuck host holds a slot for a job that will not stop; a paused one takes no jobs.
      e.online ? (e.state && e.state !== 'ready' ? e.state : 'online') : 'offline',
      `${e.running.length}/${e.concurrency}`,
      `${e.capabilities.hostApp} ${e.capabilities.hostVersion}`,
      e.labels.join(',') || '-',
    ]);
    out.print(columns(['ID', 'NAME', 'STATE', 'JOBS', 'HOST', 'LABELS'], rows));
    return 0;
  },
});

import { UsageError } from '../args.js';
import { defineCommand } from '../command.js';
import { columns } from './format.js';

export const toolsCommand = defineCommand({
  name: 'tools',
  summary: 'List plugin tools and the plugins serving them',
  usage: 'tools',
  description:
    'Lists the tool types plugins serve (text2image, ...), with the plugins that serve each. Run one with\n' +
    "'switchboard plugin run TOOL -p name=value --follow'.",
  options: {},
  optionHelp: [],
  examples: ['switchboard tools', "switchboard tools --json | jq -r 'select(.plugins | length > 0) | .name'"],
  async run({ positionals, out, client }) {
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const tools = await (await client()).tools();
    if (out.json) {
      for (const t of tools) out.record({ type: 'tool', ...t });
      return 0;
    }
    const rows = tools.map((t) => [t.name, t.plugins.join(',') || '-', t.description.split('\n')[0] ?? '']);
    out.print(columns(['TOOL', 'PLUGINS', 'DESCRIPTION'], rows));
    return 0;
  },
});

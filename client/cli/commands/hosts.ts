import { UsageError } from '../args.js';
import { defineCommand } from '../command.js';

export const hostsCommand = defineCommand({
  name: 'hosts',
  summary: 'Set up or forget a host identity (admin)',
  usage: 'hosts add ID | hosts forget ID',
  description:
    "add: issues the host secret of extension id ID (rotating any earlier one) and prints it once; give it to\nthe host (the Kit bridge's secrets file, the reference host's --secret-file, `secret` in `register`).\nforget: drops the id's secret, so the next host to register under ID gets a new one.",
  options: {},
  optionHelp: [],
  examples: ['switchboard hosts add kit-render-01', 'switchboard hosts forget kit-render-01'],
  role: 'admin',
  async run({ positionals, out, client }) {
    const [verb, id, extra] = positionals;
    if (verb !== 'add' && verb !== 'forget')
      throw new UsageError("expected 'hosts add ID' or 'hosts forget ID'");
    if (!id) throw new UsageError('missing extension ID');
    if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}'`);
    const http = (await client()).http;
    if (verb === 'add') {
      const issued = await http.issueHostSecret(id);
      if (out.json) out.record({ type: 'host_secret', ...issued });
      else out.print(issued.secret);
      out.note(`host secret of ${issued.id}: shown once; any earlier secret of this id no longer works`);
      return 0;
    }
    const forgot = await http.forgetHostSecret(id);
    if (out.json) out.record({ type: 'host_forgotten', ...forgot });
    else out.print(`${forgot.id} ${forgot.forgotten ? 'forgotten' : 'had no secret'}`);
    return 0;
  },
});

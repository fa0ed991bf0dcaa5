import { UsageError } from '../args.js';
import { defineCommand } from '../command.js';
import { resolveSettings } from '../config.js';
import { runMcpRelay } from '../mcp-relay.js';

export const mcpCommand = defineCommand({
  name: 'mcp',
  summary: 'Serve MCP on stdio, bridged to a running hub (for MCP clients that launch servers)',
  usage: 'mcp --hub URL --token T',
  description:
    "An MCP server on stdin/stdout that relays every message to the hub's /mcp endpoint: the same tools\n" +
    '(execute_python, list_tasks, ...), streamed output, cancellation and resources. The token decides what\n' +
    'the client may do: operator runs code, viewer only reads. Runs until stdin closes.',
  options: {},
  optionHelp: [],
  examples: [
    'switchboard mcp --hub http://127.0.0.1:4000 --token "$SWITCHBOARD_OPERATOR_TOKEN"',
    '{"mcpServers": {"switchboard": {"command": "switchboard", "args": ["mcp", "--hub", "http://127.0.0.1:4000", "--token", "T"]}}}',
  ],
  async run({ positionals, values, env }) {
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const global = values as { hub?: string | undefined; token?: string | undefined };
    const settings = await resolveSettings(global, env.env, env.cwd);
    // The stdio transport needs the process's own streams (CliEnv offers stdin only as a whole string).
    return runMcpRelay({
      // An MCP session lives in one hub process: with several hubs the relay talks to the first one.
      hub: settings.hubs[0] as string,
      token: settings.token,
      stdin: process.stdin,
      stdout: process.stdout,
      log: (line) => env.stderr.write(`${line}\n`),
    });
  },
});

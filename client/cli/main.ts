import { readFile } from 'node:fs/promises';
import { GLOBAL_HELP, splitCommand, UsageError } from './args.js';
import type { CliEnv, Command } from './command.js';
import { cancelCommand } from './commands/cancel.js';
import { execCommand } from './commands/exec.js';
import { extensionsCommand } from './commands/extensions.js';
import { flowCommand } from './commands/flow.js';
import { hostsCommand } from './commands/hosts.js';
import { mcpCommand } from './commands/mcp.js';
import { pluginCommand } from './commands/plugin.js';
import { runCommand } from './commands/run.js';
import { statusCommand } from './commands/status.js';
import { tasksCommand } from './commands/tasks.js';
import { toolsCommand } from './commands/tools.js';
import { topCommand } from './commands/top.js';
import { watchCommand } from './commands/watch.js';
import { EXIT, exitForError } from './exit-codes.js';
import { Output } from './output.js';

const COMMANDS: readonly Command[] = [
  execCommand,
  runCommand,
  watchCommand,
  statusCommand,
  tasksCommand,
  cancelCommand,
  extensionsCommand,
  topCommand,
  flowCommand,
  toolsCommand,
  pluginCommand,
  mcpCommand,
  hostsCommand,
];

function generalHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const flagWidth = Math.max(...GLOBAL_HELP.map(([flag]) => flag.length));
  return [
    'Usage: switchboard <command> [options]',
    '',
    'Talks to a Switchboard hub: run Python on Omniverse extensions and follow tasks.',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Global options:',
    ...GLOBAL_HELP.map(([flag, text]) => `  ${flag.padEnd(flagWidth)}  ${text}`),
    '',
    'Exit codes: 0 succeeded, 1 failed, 2 usage or configuration error, 3 cancelled, 4 timed out,',
    '            5 hub unreachable or token refused.',
    "Run 'switchboard <command> --help' for a command's options and examples.",
    '',
  ].join('\n');
}

async function version(): Promise<string> {
  const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version?: string;
  };
  return pkg.version ?? 'unknown';
}

function processEnv(): CliEnv {
  return {
    env: process.env,
    cwd: process.cwd(),
    stdout: process.stdout,
    stderr: process.stderr,
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
  };
}

/** Runs one command line and returns the exit code; never throws. */
export async function main(argv: string[], env: CliEnv = processEnv()): Promise<number> {
  const { name, rest } = splitCommand(argv);
  const json = rest.includes('--json');
  try {
    if (name === undefined || name === 'help') {
      const topic = name === 'help' ? splitCommand(rest).name : undefined;
      const command = COMMANDS.find((c) => c.name === topic);
      if (topic !== undefined && !command) throw new UsageError(`unknown command '${topic}'`);
      if (!command && rest.includes('--version')) {
        env.stdout.write(`${await version()}\n`);
        return EXIT.succeeded;
      }
      const asked = name === 'help' || rest.includes('--help') || rest.includes('-h');
      (asked ? env.stdout : env.stderr).write(command ? command.help() : generalHelp());
      return asked ? EXIT.succeeded : EXIT.usage;
    }
    const command = COMMANDS.find((c) => c.name === name);
    if (!command) throw new UsageError(`unknown command '${name}'`);
    return await command.execute(rest, env);
  } catch (err) {
    const known = COMMANDS.some((c) => c.name === name);
    new Output({ stdout: env.stdout, stderr: env.stderr, json, env: env.env }).error(
      err,
      known ? name : undefined,
    );
    return exitForError(err);
  }
}

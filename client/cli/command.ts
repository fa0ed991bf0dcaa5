import { SwitchboardClient } from '../sdk/index.js';
import { GLOBAL_HELP, type OptionSpec, parseCommandArgs, type Values } from './args.js';
import { type FileRole, resolveSettings } from './config.js';
import { Output, type Sink } from './output.js';

/** What the process gives a command: environment and standard streams. */
export interface CliEnv {
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdout: Sink;
  stderr: Sink;
  /** Reads all of standard input (for `exec -`). */
  readStdin: () => Promise<string>;
}

/** A command's view of one run: parsed arguments, output, and a client made on first use. */
export interface RunContext<O extends OptionSpec> {
  values: Values<O>;
  positionals: string[];
  out: Output;
  env: CliEnv;
  /** Resolves hub and token (a UsageError if there is none) and builds the client; closed after the run. */
  client: () => Promise<SwitchboardClient>;
}

type GlobalValues = Values<Record<never, never>>;

export interface CommandSpec<O extends OptionSpec> {
  name: string;
  /** One line for the command list. */
  summary: string;
  usage: string;
  description: string;
  options: O;
  /** Help lines for the command's own options: [flags, text]. */
  optionHelp: Array<[string, string]>;
  examples: string[];
  /** The token taken from the hub's tokens file when none is given (default operator). */
  role?: FileRole;
  run: (ctx: RunContext<O>) => Promise<number>;
}

/** A command as main.ts sees it, its option types erased. */
export interface Command {
  name: string;
  summary: string;
  help: () => string;
  execute: (args: string[], env: CliEnv) => Promise<number>;
}

export function defineCommand<const O extends OptionSpec>(spec: CommandSpec<O>): Command {
  const help = () => formatHelp(spec);
  return {
    name: spec.name,
    summary: spec.summary,
    help,
    async execute(args, env) {
      const { values, positionals } = parseCommandArgs(args, spec.options);
      // Inside this generic function TypeScript cannot see the global options in `values`; they are there.
      const global = values as GlobalValues;
      if (global.help) {
        env.stdout.write(help());
        return 0;
      }
      const out = new Output({
        stdout: env.stdout,
        stderr: env.stderr,
        json: global.json === true,
        env: env.env,
      });
      let client: SwitchboardClient | undefined;
      const ctx: RunContext<O> = {
        values,
        positionals,
        out,
        env,
        client: async () => {
          if (client) return client;
          const settings = await resolveSettings(global, env.env, env.cwd, spec.role);
          client = new SwitchboardClient({ url: settings.hubs, token: settings.token });
          return client;
        },
      };
      try {
        return await spec.run(ctx);
      } finally {
        await client?.close();
      }
    },
  };
}

function table(rows: Array<[string, string]>): string {
  const width = Math.max(...rows.map(([flag]) => flag.length));
  return rows.map(([flag, text]) => `  ${flag.padEnd(width)}  ${text}`).join('\n');
}

function formatHelp(
  spec: Pick<CommandSpec<OptionSpec>, 'usage' | 'description' | 'optionHelp' | 'examples'>,
): string {
  const parts = [`Usage: switchboard ${spec.usage}`, '', spec.description];
  if (spec.optionHelp.length > 0) parts.push('', 'Options:', table(spec.optionHelp));
  parts.push('', 'Global options:', table(GLOBAL_HELP));
  if (spec.examples.length > 0) parts.push('', 'Examples:', ...spec.examples.map((e) => `  ${e}`));
  return parts.join('\n') + '\n';
}

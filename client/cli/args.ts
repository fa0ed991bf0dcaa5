import { type ParseArgsConfig, parseArgs } from 'node:util';

/** Bad command line or configuration: exit 2 with the message and a pointer to `--help`. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** Options every command accepts, before or after the command name. */
export const GLOBAL_OPTIONS = {
  hub: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionSpec;

export const GLOBAL_HELP: Array<[string, string]> = [
  [
    '--hub URL[,URL]',
    'Hub address, or several hub processes (env SWITCHBOARD_URL, default http://127.0.0.1:4000)',
  ],
  ['--token T', 'Bearer token (env SWITCHBOARD_TOKEN, else operator from <data dir>/tokens.json)'],
  ['--json', 'NDJSON on stdout: one JSON object per line'],
  ['-h, --help', 'Show help'],
];

type Parsed<O extends OptionSpec> = ReturnType<
  typeof parseArgs<{ options: O & typeof GLOBAL_OPTIONS; allowPositionals: true; strict: true }>
>;
export type Values<O extends OptionSpec> = Parsed<O>['values'];

/** Parses one command's arguments (its own options plus the global ones); mistakes become UsageErrors. */
export function parseCommandArgs<O extends OptionSpec>(args: string[], options: O): Parsed<O> {
  try {
    return parseArgs({
      args,
      options: { ...options, ...GLOBAL_OPTIONS },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    const message = shortArgMessage(err instanceof Error ? err.message : String(err));
    const flag = /^unknown option '--([^'=]+)'/.exec(message)?.[1];
    const near = flag ? closest(flag, Object.keys({ ...options, ...GLOBAL_OPTIONS })) : undefined;
    throw new UsageError(near ? `${message}; did you mean --${near}?` : message);
  }
}

/** node:util's parseArgs messages run to three sentences; keep the part that names the flag. */
export function shortArgMessage(message: string): string {
  const unknown = /^Unknown option '([^']+)'/.exec(message);
  if (unknown) return `unknown option '${unknown[1]}'`;
  const needsValue = /^Option '(?:-\w, )?(--[^ ']+)[^']*' argument missing/.exec(message);
  if (needsValue) return `${needsValue[1]} needs a value`;
  const positional = /^Unexpected argument '([^']+)'/.exec(message);
  if (positional) return `unexpected argument '${positional[1]}'`;
  return message.split('. ')[0] ?? message;
}

/** Splits `argv` into the command name (first word that is not a global option or its value) and the rest. */
export function splitCommand(argv: string[]): { name: string | undefined; rest: string[] } {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') break;
    if (arg === '--hub' || arg === '--token') {
      i++;
      continue;
    }
    if (arg.startsWith('-')) continue;
    return { name: arg, rest: [...argv.slice(0, i), ...argv.slice(i + 1)] };
  }
  return { name: undefined, rest: argv };
}

/** A number option: finite, and an integer when asked. */
export function numberOption(
  flag: string,
  raw: string,
  opts: { integer?: boolean; min?: number } = {},
): number {
  const n = Number(raw);
  const ok = raw.trim() !== '' && Number.isFinite(n) && (!opts.integer || Number.isInteger(n));
  if (!ok || (opts.min !== undefined && n < opts.min)) {
    const kind = opts.integer ? 'an integer' : 'a number';
    const floor = opts.min === undefined ? '' : ` >= ${opts.min}`;
    throw new UsageError(`${flag} expects ${kind}${floor}, got '${raw}'`);
  }
  return n;
}

/** Exactly one positional argument, named for the message when it is missing or doubled. */
export function onePositional(positionals: string[], name: string): string {
  if (positionals.length === 0) throw new UsageError(`missing ${name}`);
  if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}'`);
  return positionals[0]!;
}

/** The known option nearest to a mistyped one (at most two edits away), for a "did you mean". */
function closest(typed: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const k of known) {
    const d = editDistance(typed, k);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(
        (prev[j] ?? 0) + 1,
        (row[j - 1] ?? 0) + 1,
        (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    prev = row;
  }
  return prev[b.length] ?? 0;
}

import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { PolicyMode } from '../../server/safety/index.js';
import { ReferenceHost } from './host.js';

const POLICY_MODES: readonly PolicyMode[] = ['strict', 'permissive', 'off', 'allowlist'];
const isPolicyMode = (m: string): m is PolicyMode => (POLICY_MODES as readonly string[]).includes(m);

const USAGE = `usage: tsx extension-bridge/host/cli.ts --hub URL[,URL...] --token TOKEN --name NAME
         [--id ID] [--labels a,b] [--concurrency N] [--python PATH]
         [--policy strict|permissive|off|allowlist] [--policy-allow-modules a,b]
         [--secret-file PATH]

Runs a reference extension host: dials out to the hub, registers, runs the Python jobs it is sent.
--hub may list several processes of one scaled-out hub, comma-separated: the host moves to the next one
when it loses its hub, and registers there as the same host, carrying on its running jobs.
--hub and --token may also come from SWITCHBOARD_HUB and SWITCHBOARD_EXTENSION_TOKEN (keeps the token out
of ps; SWITCHBOARD_TOKEN still works but is deprecated for hosts: the CLI reads it for its own token).
--secret-file keeps the host secret the hub issues on first registration (default
~/.config/switchboard/hosts/<id or name>.secret): the hub refuses its id to a host without it.
Waits for the hub if it is not up yet; stops cleanly on SIGINT/SIGTERM.
Checks each job's code with the hub's policy before running it (--policy, else SWITCHBOARD_POLICY_MODE,
else strict); --policy-allow-modules (or SWITCHBOARD_POLICY_ALLOW_MODULES) extends allowlist mode's list.
`;

function log(message: string): void {
  process.stderr.write(`${new Date().toISOString()} ${message}\n`);
}

function defaultSecretFile(idOrName: string): string {
  const base = process.env['XDG_CONFIG_HOME'] || join(homedir(), '.config');
  return join(base, 'switchboard', 'hosts', `${idOrName.replace(/[^A-Za-z0-9_.-]+/g, '_')}.secret`);
}

function parse() {
  return parseArgs({
    options: {
      hub: { type: 'string' },
      token: { type: 'string' },
      name: { type: 'string' },
      id: { type: 'string' },
      labels: { type: 'string' },
      concurrency: { type: 'string' },
      python: { type: 'string' },
      policy: { type: 'string' },
      'policy-allow-modules': { type: 'string' },
      'secret-file': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  }).values;
}

/** SWITCHBOARD_EXTENSION_TOKEN; the shared SWITCHBOARD_TOKEN still works for now, with a warning. */
function tokenFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  if (env['SWITCHBOARD_EXTENSION_TOKEN']) return env['SWITCHBOARD_EXTENSION_TOKEN'];
  const legacy = env['SWITCHBOARD_TOKEN'];
  if (legacy)
    log(
      'warning: SWITCHBOARD_TOKEN is deprecated for hosts (the CLI uses it); set SWITCHBOARD_EXTENSION_TOKEN',
    );
  return legacy || undefined;
}

function usageError(message: string): number {
  process.stderr.write(`${message}\n\n${USAGE}`);
  return 2;
}

async function main(): Promise<number> {
  let args: ReturnType<typeof parse>;
  try {
    args = parse();
  } catch (err) {
    return usageError((err as Error).message);
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const url = args.hub ?? process.env['SWITCHBOARD_HUB'];
  const token = args.token ?? tokenFromEnv(process.env);
  if (!url || !token || !args.name) return usageError('--hub, --token and --name are required');
  const concurrency = args.concurrency === undefined ? undefined : Number(args.concurrency);
  if (concurrency !== undefined && !Number.isInteger(concurrency)) {
    return usageError(`--concurrency must be an integer, got ${args.concurrency}`);
  }
  const labels = args.labels
    ?.split(',')
    .map((label) => label.trim())
    .filter(Boolean);

  const mode = args.policy ?? process.env['SWITCHBOARD_POLICY_MODE'] ?? 'strict';
  if (!isPolicyMode(mode))
    return usageError(`--policy must be one of ${POLICY_MODES.join(', ')}, got ${mode}`);
  const allowModules = (args['policy-allow-modules'] ?? process.env['SWITCHBOARD_POLICY_ALLOW_MODULES'] ?? '')
    .split(',')
    .map((m) => m.trim())
    .filter(Boolean);

  let host: ReferenceHost;
  try {
    host = new ReferenceHost({
      url,
      token,
      name: args.name,
      id: args.id,
      labels,
      concurrency,
      python: args.python,
      policy: { mode, allowModules },
      secretFile: args['secret-file'] ?? defaultSecretFile(args.id ?? args.name),
      startTimeoutMs: Number.POSITIVE_INFINITY,
    });
  } catch (err) {
    return usageError((err as Error).message);
  }
  host.on('connection', (state, detail) => log(`${state}: ${detail}`));
  host.on('registered', (r, again) =>
    log(`${again ? 're-registered' : 'registered'} as ${r.extensionId} (heartbeat ${r.heartbeatMs} ms)`),
  );
  host.on('job', (job) =>
    log(`job ${job.taskId} started (attempt ${job.attempt}, timeout ${job.timeoutMs} ms)`),
  );
  host.on('job:end', (r) => log(`job ${r.taskId} ${r.status}${r.error ? `: ${r.error.message}` : ''}`));
  host.on('warning', (message) => log(`warning: ${message}`));

  let stopping: Promise<void> | undefined;
  const stopped = new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        log(`${signal} again: exiting now`);
        process.exit(130);
      }
      log(`${signal}: stopping`);
      stopping = host.stop().then(resolve);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });

  log(`connecting to ${url} as ${args.name}`);
  try {
    await Promise.race([host.start(), stopped]);
  } catch (err) {
    if (stopping) {
      await stopping;
      log('stopped');
      return 0;
    }
    log(`cannot start: ${(err as Error).message}`);
    await host.stop();
    return 1;
  }
  await stopped;
  log('stopped');
  return 0;
}

process.exit(await main());

import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TokenSet } from '../../server/auth/tokens.js';
import { until } from './clients.js';

/** One hub process of a cluster: the real entry point (`server/main.ts`), its own data dir, a shared Redis. */
export interface HubProcess {
  url: string;
  proc: ChildProcess;
  dataDir: string;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** kill -9, as a crash; resolves once the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM and wait for the exit (a clean shutdown). */
  stop(): Promise<void>;
}

export interface Cluster {
  redisUrl: string;
  prefix: string;
  tokens: TokenSet;
  hubs: HubProcess[];
  /** Starts one more process on the same Redis and prefix. */
  add(env?: Record<string, string>): Promise<HubProcess>;
  close(): Promise<void>;
}

function token(): string {
  return randomBytes(24).toString('base64url');
}

/** Spawns `server/main.ts` on port 0 and waits for its "listening on" line (cold tsx starts take a while). */
export async function spawnHubProcess(
  env: Record<string, string>,
  startTimeoutMs = 180_000,
): Promise<HubProcess> {
  const dataDir = env['SWITCHBOARD_DATA_DIR'] ?? mkdtempSync(join(tmpdir(), 'sb-cluster-'));
  const proc = spawn(process.execPath, ['--no-node-snapshot', '--import', 'tsx', 'server/main.ts'], {
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      SWITCHBOARD_LOG_LEVEL: process.env['SB_TEST_LOG'] ?? 'warn',
      ...env,
      SWITCHBOARD_DATA_DIR: dataDir,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  proc.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<void>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve();
    else proc.once('exit', () => resolve());
  });
  const url = await until(
    () => {
      if (proc.exitCode !== null) throw new Error(`hub process exited with ${proc.exitCode}: ${out}`);
      return /listening on (http:\/\/\S+)/.exec(out)?.[1];
    },
    startTimeoutMs,
    `hub process to start: ${out}`,
  );
  const gone = async (signal: NodeJS.Signals) => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    await exited;
  };
  return {
    url,
    proc,
    dataDir,
    output: () => out,
    kill: () => gone('SIGKILL'),
    stop: async () => {
      await gone('SIGTERM');
      if (!env['SWITCHBOARD_DATA_DIR']) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * N hub processes on one Redis and one key prefix, sharing one token set (from the environment, so no process
 * generates its own). Started in parallel.
 */
export async function startCluster(
  n: number,
  redisUrl: string,
  env: Record<string, string> = {},
): Promise<Cluster> {
  const prefix = `sb:cluster-${randomBytes(4).toString('hex')}:`;
  const tokens: TokenSet = {
    admin: token(),
    operator: token(),
    viewer: token(),
    extension: token(),
  };
  const shared: Record<string, string> = {
    SWITCHBOARD_REDIS_URL: redisUrl,
    SWITCHBOARD_REDIS_PREFIX: prefix,
    SWITCHBOARD_ADMIN_TOKEN: tokens.admin,
    SWITCHBOARD_OPERATOR_TOKEN: tokens.operator,
    SWITCHBOARD_VIEWER_TOKEN: tokens.viewer,
    SWITCHBOARD_EXTENSION_TOKEN: tokens.extension,
    ...env,
  };
  const hubs: HubProcess[] = [];
  const add = async (more: Record<string, string> = {}) => {
    const h = await spawnHubProcess({ ...shared, ...more });
    hubs.push(h);
    return h;
  };
  try {
    await Promise.all(Array.from({ length: n }, () => add()));
  } catch (err) {
    await Promise.allSettled(hubs.map((h) => h.kill()));
    throw err;
  }
  return {
    redisUrl,
    prefix,
    tokens,
    hubs,
    add,
    close: async () => {
      await Promise.allSettled(hubs.map((h) => h.kill()));
      for (const h of hubs) rmSync(h.dataDir, { recursive: true, force: true });
    },
  };
}

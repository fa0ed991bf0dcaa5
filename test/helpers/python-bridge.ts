import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExtensionInfo } from '../../server/protocol/index.js';
import { http, until } from './clients.js';

/** Debian's interpreter, which has python3-socketio; the `python3` on PATH may be another one. */
export const PYTHON = '/usr/bin/python3';
/** The Kit extension's folder: on PYTHONPATH it makes `switchboard.bridge` importable. */
export const BRIDGE_DIR = fileURLToPath(
  new URL('../../extension-bridge/exts/switchboard.bridge', import.meta.url),
);
/** Runs the extension inside the Kit stand-in (fake omni/carb modules, a fake app loop on the main thread). */
export const KIT_STANDIN_SCRIPT = `${BRIDGE_DIR}/tests/kit_standin/run_kit.py`;

export interface BridgeOptions {
  name: string;
  id?: string;
  labels?: string[];
  concurrency?: number;
  policy?: 'strict' | 'permissive' | 'off' | 'allowlist';
  /** `headless` (default): `python -m switchboard.bridge`; `kit`: the extension under the Kit stand-in. */
  mode?: 'headless' | 'kit';
  /** Overrides the token (for refusal tests). */
  token?: string;
  /** Kit mode only: the extension's forward_log setting (Kit log forwarding: off, or the lowest level). */
  forwardLog?: 'off' | 'verbose' | 'info' | 'warn' | 'error' | 'fatal';
  /** Where the bridge keeps its host secret; default one temporary folder per test process. */
  secretsDir?: string;
}

/** One folder per test process: a bridge restarted in a test finds the secret its first run was issued. */
const SECRETS_DIR = mkdtempSync(join(tmpdir(), 'sb-bridge-secrets-'));

export interface PythonBridge {
  readonly child: ChildProcess;
  readonly name: string;
  /** Everything the process wrote to stdout and stderr so far (its log). */
  output(): string;
  /** Resolves with the exit code (null when killed by a signal) once the process is gone. */
  readonly exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL if it has not exited in `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
}

const running = new Set<PythonBridge>();

/** Spawns a bridge without waiting for it to register. The token goes in the environment, not argv. */
export function spawnPythonBridge(hubUrl: string, token: string, options: BridgeOptions): PythonBridge {
  const args = ['--hub', hubUrl, '--name', options.name, '--secrets-dir', options.secretsDir ?? SECRETS_DIR];
  if (options.id) args.push('--id', options.id);
  if (options.labels?.length) args.push('--labels', options.labels.join(','));
  if (options.concurrency) args.push('--concurrency', String(options.concurrency));
  if (options.policy) args.push('--policy', options.policy);
  if (options.forwardLog) args.push('--forward-log', options.forwardLog);
  const command = options.mode === 'kit' ? [KIT_STANDIN_SCRIPT] : ['-m', 'switchboard.bridge'];
  const child = spawn(PYTHON, ['-u', ...command, ...args], {
    env: {
      ...process.env,
      PYTHONPATH: BRIDGE_DIR,
      SWITCHBOARD_EXTENSION_TOKEN: options.token ?? token,
      PYTHONDONTWRITEBYTECODE: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding('utf8');
    stream?.on('data', (text: string) => {
      log += text;
      if (process.env['SB_TEST_LOG']) process.stderr.write(`[${options.name}] ${text}`);
    });
  }
  const exited = new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
  const bridge: PythonBridge = {
    child,
    name: options.name,
    output: () => log,
    exited,
    async stop(graceMs = 8_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      running.delete(bridge);
      return exited;
    },
  };
  running.add(bridge);
  void exited.then(() => running.delete(bridge));
  return bridge;
}

/** The extension as the hub lists it, once it is online under this name. */
export async function waitForExtension(
  hubUrl: string,
  viewerToken: string,
  name: string,
  timeoutMs = 15_000,
): Promise<ExtensionInfo> {
  return until(
    async () => {
      const res = await http<ExtensionInfo[]>(hubUrl, viewerToken, 'GET', '/api/v1/extensions').catch(
        () => null,
      );
      return res?.status === 200 && res.body.find((e) => e.name === name && e.online);
    },
    timeoutMs,
    `extension ${name} to be online`,
  );
}

/** Spawns a bridge and waits until the hub lists it; on failure, the error carries the bridge's log. */
export async function startPythonBridge(
  hub: { url: string; tokens: { extension: string; viewer: string } },
  options: BridgeOptions,
): Promise<{ bridge: PythonBridge; info: ExtensionInfo }> {
  const bridge = spawnPythonBridge(hub.url, hub.tokens.extension, options);
  try {
    const info = await Promise.race([
      waitForExtension(hub.url, hub.tokens.viewer, options.name),
      bridge.exited.then((code) => {
        throw new Error(`bridge ${options.name} exited with ${code}`);
      }),
    ]);
    return { bridge, info };
  } catch (err) {
    await bridge.stop(1_000);
    throw new Error(`${(err as Error).message}\n--- bridge log ---\n${bridge.output()}`);
  }
}

/** Stops every bridge still running (for afterEach). */
export async function stopAllBridges(): Promise<void> {
  await Promise.all([...running].map((b) => b.stop()));
}

/** Waits for a line of the bridge's log matching `pattern`. */
export async function waitForLog(bridge: PythonBridge, pattern: RegExp, timeoutMs = 15_000): Promise<void> {
  await until(() => pattern.test(bridge.output()), timeoutMs, `bridge log to match ${pattern}`);
}

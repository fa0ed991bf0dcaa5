import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { PYTHON } from './python-bridge.js';

/** The `switchboard` entry point. */
export const CLI_BIN = fileURLToPath(new URL('../../client/cli/bin.mjs', import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Spawns `command args` and collects its output; `stdin`: written and closed (omitted: no stdin at all). */
function collect(
  command: string,
  args: string[],
  env: Record<string, string | undefined>,
  stdin?: string,
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: tmpdir(),
      env,
      stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    if (stdin !== undefined) child.stdin?.end(stdin);
  });
}

/** Runs the real `switchboard` entry point in a child node process, with only PATH and `env` set. */
export function runCli(
  args: string[],
  env: Record<string, string | undefined> = {},
  stdin = '',
): Promise<CliRun> {
  return collect(
    process.execPath,
    [CLI_BIN, ...args],
    { PATH: process.env['PATH'], NO_COLOR: '1', ...env },
    stdin,
  );
}

const IN_PTY = fileURLToPath(new URL('./py/in_pty.py', import.meta.url));

/**
 * Runs the CLI on a real pseudo-terminal (Python's pty), so it sees a TTY as in a user's shell; colour is on
 * unless `env` sets NO_COLOR. `ctrlCAfter`: types Ctrl-C once this text has been drawn.
 */
export function runCliInPty(
  args: string[],
  env: Record<string, string | undefined> = {},
  ctrlCAfter?: string,
): Promise<CliRun> {
  return collect(PYTHON, [IN_PTY, process.execPath, CLI_BIN, ...args], {
    PATH: process.env['PATH'],
    TERM: 'xterm-256color',
    ...(ctrlCAfter ? { PTY_CTRL_C_AFTER: ctrlCAfter } : {}),
    ...env,
  });
}

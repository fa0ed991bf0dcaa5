import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PYTHON } from '../helpers/python-bridge.js';

const BRIDGE_DIR = fileURLToPath(new URL('../../extension-bridge/exts/switchboard.bridge', import.meta.url));

/** The Python bridge's token lookup (the headless worker and the Kit extension both use it). */
function bridgeToken(env: Record<string, string>): Promise<{ token: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const code =
      'import logging; logging.basicConfig(); from switchboard.bridge.config import token_from_env; print(token_from_env())';
    const child = spawn(PYTHON, ['-c', code], {
      env: { PATH: process.env['PATH'], PYTHONPATH: BRIDGE_DIR, PYTHONDONTWRITEBYTECODE: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', () => resolve({ token: out.trim(), stderr }));
  });
}

/** Runs the reference host's CLI without --name, so it stops at argument checks after reading its token. */
function hostCli(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'node_modules/.bin/tsx',
      ['extension-bridge/host/cli.ts', '--hub', 'http://127.0.0.1:9'],
      {
        env: { PATH: process.env['PATH'], ...env },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('the host token variable', { timeout: 120_000 }, () => {
  it('SWITCHBOARD_EXTENSION_TOKEN is read quietly; the shared SWITCHBOARD_TOKEN still works, with a warning', async () => {
    const [own, legacy, none] = await Promise.all([
      hostCli({ SWITCHBOARD_EXTENSION_TOKEN: 'sb_ext_0123456789abcdef' }),
      hostCli({ SWITCHBOARD_TOKEN: 'sb_ext_0123456789abcdef' }),
      hostCli({}),
    ]);
    // Only --name is missing when a token was found.
    for (const run of [own, legacy, none]) expect(run.code).toBe(2);
    expect(own.stderr).not.toContain('warning: SWITCHBOARD_TOKEN');
    expect(legacy.stderr).toContain('warning: SWITCHBOARD_TOKEN is deprecated for hosts');
    expect(none.stderr).not.toContain('warning: SWITCHBOARD_TOKEN');
  });

  it('the Python bridge prefers SWITCHBOARD_EXTENSION_TOKEN and warns on the shared variable', async () => {
    const [both, legacy] = await Promise.all([
      bridgeToken({ SWITCHBOARD_EXTENSION_TOKEN: 'ext-token-own', SWITCHBOARD_TOKEN: 'cli-operator-token' }),
      bridgeToken({ SWITCHBOARD_TOKEN: 'ext-token-legacy' }),
    ]);
    expect(both.token).toBe('ext-token-own');
    expect(both.stderr).toBe('');
    expect(legacy.token).toBe('ext-token-legacy');
    expect(legacy.stderr).toContain('SWITCHBOARD_TOKEN is deprecated for hosts');
  });
});

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const children: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Starts `npm start`'s entry (server/main.ts) and resolves with its stdout once the banner is complete. */
function startHub(
  env: Record<string, string>,
): Promise<{ out: string; dataDir: string; child: ChildProcess }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sb-banner-'));
  dirs.push(dataDir);
  // node with tsx's loader (what `npm start` runs, minus the wrapper process), so the exit code is the hub's.
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    env: { PATH: process.env['PATH'], PORT: '0', SWITCHBOARD_DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (/^ {4}extension +\S+$/m.test(out)) resolve({ out, dataDir, child });
    });
    child.on('exit', (code) => reject(new Error(`hub exited ${code} before its banner: ${out}`)));
  });
}

const token = (role: string) => `sb_${role}_${'x'.repeat(24)}`;

describe('the startup banner', { timeout: 180_000 }, () => {
  it('names tokens.json only when a token lives there, and holds no log line', async () => {
    const [fromEnv, fromFile] = await Promise.all([
      startHub({
        SWITCHBOARD_ADMIN_TOKEN: token('admin'),
        SWITCHBOARD_OPERATOR_TOKEN: token('operator'),
        SWITCHBOARD_VIEWER_TOKEN: token('viewer'),
        SWITCHBOARD_EXTENSION_TOKEN: token('extension'),
      }),
      startHub({ SWITCHBOARD_ADMIN_TOKEN: token('admin') }),
    ]);
    expect(fromEnv.out).toMatch(/^ {2}Tokens: +from the environment/m);
    expect(fromEnv.out).not.toContain('tokens.json');
    expect(existsSync(join(fromEnv.dataDir, 'tokens.json'))).toBe(false);
    expect(fromEnv.out).toMatch(/^ {4}operator +sb_operator_x{24}$/m);

    expect(fromFile.out).toContain(
      `Tokens:     ${join(fromFile.dataDir, 'tokens.json')} (generated now); admin from the environment`,
    );
    for (const { out } of [fromEnv, fromFile]) {
      expect(out).toMatch(/^ {2}API docs: +http:\/\/\S+\/docs /m);
      expect(out).toMatch(/^ {2}Metrics: +http:\/\/\S+\/metrics/m);
      // The banner is one block: from its first line to its last, nothing else (no JSON log line).
      const lines = out.split('\n');
      const first = lines.findIndex((l) => l.startsWith('Switchboard hub listening on '));
      const last = lines.findIndex((l) => /^ {4}extension /.test(l));
      expect(first).toBeGreaterThanOrEqual(0);
      expect(last - first).toBe(9);
      for (const l of lines.slice(first, last + 1)) expect(l).not.toMatch(/^\{/);
    }
    for (const { child } of [fromEnv, fromFile]) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  });
});

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SwitchboardClient } from '../../client/sdk/index.js';
import type { TaskEvent } from '../../server/protocol/index.js';
import { runCli } from '../helpers/cli.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { TEST_PLUGINS_DIR } from '../helpers/plugin-client.js';
import { decodePng } from '../helpers/png.js';

/** The CLI and SDK get plugin tasks: list tools, run text2image with live progress, save the PNG. */

let h: TestHub;
let env: Record<string, string>;
let out: string;

beforeAll(async () => {
  h = await startTestHub({ pluginsDirs: [TEST_PLUGINS_DIR] });
  env = { SWITCHBOARD_URL: h.url, SWITCHBOARD_TOKEN: h.tokens.operator };
  out = mkdtempSync(join(tmpdir(), 'sb-cli-out-'));
});
afterAll(async () => {
  await h?.close();
  rmSync(out, { recursive: true, force: true });
});

describe('switchboard CLI', () => {
  it('tools lists tool types with their plugins; plugin list shows plugins', async () => {
    const tools = await runCli(['tools'], env);
    expect(tools.code).toBe(0);
    expect(tools.stdout).toMatch(/text2image\s+text2image_demo/);
    expect(tools.stdout).toMatch(/crash\s+flaky/);
    const json = await runCli(['tools', '--json'], env);
    const records = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { name: string; plugins: string[] });
    expect(records.find((r) => r.name === 'text2image')?.plugins).toEqual(['text2image_demo']);
    const list = await runCli(['plugin', 'list'], env);
    expect(list.stdout).toMatch(/text2image_demo\s+1\.0\.0\s+\w+\s+stdio\s+text2image/);
  });

  it('plugin run text2image -p prompt=... --follow shows progress live and saves the PNG', async () => {
    const run = await runCli(
      [
        'plugin',
        'run',
        'text2image',
        '-p',
        'prompt=hello',
        '-p',
        'width=96',
        '-p',
        'height=40',
        '-p',
        'step_delay_ms=5',
        '--follow',
        '--out',
        out,
      ],
      env,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('[progress] [#-------------------] 5% gradient band 1/20');
    expect(run.stderr).toContain('[progress] [####################] 100% drawing the text');
    expect(run.stderr).toContain('✔ succeeded');
    const file = run.stdout.trim();
    expect(file.startsWith(out)).toBe(true);
    const png = decodePng(readFileSync(file));
    expect([png.width, png.height]).toEqual([96, 40]);
  });

  it('a failing call exits 1 with the reason; bad arguments are usage errors (2)', async () => {
    const fail = await runCli(['plugin', 'run', 'crash', '--plugin', 'flaky', '--follow'], env);
    expect(fail.code).toBe(1);
    expect(fail.stderr).toMatch(/✖ failed: plugin flaky exited with code 3/);
    const usage = await runCli(['plugin', 'run', 'text2image', '-p', 'novalue'], env);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('write name=value');
    const unknown = await runCli(['plugin', 'run', 'nope'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('tool_name');
  });

  it('without --follow prints the task id', async () => {
    const run = await runCli(['plugin', 'run', 'ok', '--plugin', 'flaky', '-p', 'text=x'], env);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toMatch(/^t_/);
  });
});

describe('SDK', () => {
  it('runTool, follow and download', async () => {
    const client = new SwitchboardClient({ url: h.url, token: h.tokens.operator });
    try {
      expect((await client.tools()).find((t) => t.name === 'text2image')?.plugins).toEqual([
        'text2image_demo',
      ]);
      expect((await client.plugins()).map((p) => p.name)).toContain('flaky');
      const task = await client.runTool({
        tool: 'text2image',
        parameters: { prompt: 'sdk', width: 32, height: 32, steps: 3 },
      });
      expect(task.kind).toBe('plugin');
      const events: TaskEvent[] = [];
      for await (const e of client.follow(task.id)) events.push(e);
      expect(
        events.filter((e) => e.type === 'progress').map((e) => (e.data as { percent?: number }).percent),
      ).toEqual([33.3, 66.7, 100]);
      const done = await client.get(task.id);
      const [image] = (done.result as { output_resources: Array<{ url: string }> }).output_resources;
      const png = decodePng(Buffer.from(await client.download(image?.url ?? '')));
      expect([png.width, png.height]).toEqual([32, 32]);
    } finally {
      await client.close();
    }
  });
});

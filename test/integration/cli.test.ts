import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SwitchboardClient } from '../../client/sdk/index.js';
import { runCli } from '../helpers/cli.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import {
  codeDrivenScript,
  type ScriptedExtension,
  scriptedExtension,
} from '../helpers/scripted-extension.js';

// Each run starts a node process that compiles the CLI with tsx: allow for a loaded machine.
describe('switchboard CLI against a real hub', { timeout: 60_000 }, () => {
  let hub: TestHub;
  let ext: ScriptedExtension;
  let env: Record<string, string>;
  let sb: SwitchboardClient;
  const scratch = mkdtempSync(join(tmpdir(), 'sb-cli-'));

  beforeAll(async () => {
    hub = await startTestHub();
    ext = await scriptedExtension(
      hub.url,
      hub.tokens.extension,
      { name: 'cli-ext', labels: ['cli'], concurrency: 4 },
      codeDrivenScript,
    );
    env = { SWITCHBOARD_URL: hub.url, SWITCHBOARD_TOKEN: hub.tokens.operator };
    sb = new SwitchboardClient({ url: hub.url, token: hub.tokens.admin });
  });
  afterAll(async () => {
    await sb?.close();
    ext?.close();
    await hub?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('exec -c --follow streams output, status lines and the verdict, and exits 0', async () => {
    const run = await runCli(['exec', '-c', "print('hi')", '--target', 'label:cli', '--follow'], env);
    expect(run.stderr).toContain(`[status] running on ${ext.extensionId}`);
    expect(run.stderr).toMatch(/✔ succeeded in \d+\.\ds/);
    expect(run.stdout).toBe(`ran: print('hi')\n${JSON.stringify({ echo: "print('hi')" }, null, 2)}\n`);
    expect(run.code).toBe(0);
  });

  it('a failing job exits 1 with its stderr and message', async () => {
    const run = await runCli(['exec', '-c', 'fail()', '--follow'], env);
    expect(run.stderr).toContain('ValueError: boom\n');
    expect(run.stderr).toContain('✖ failed: ValueError: boom');
    expect(run.code).toBe(1);
  });

  it('--json emits NDJSON: the events in seq order, then the task', async () => {
    const run = await runCli(['exec', '-c', 'x = 2', '--follow', '--json'], env);
    expect(run.code).toBe(0);
    const lines = run.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const events = lines.slice(0, -1);
    expect(events.map((e) => e['seq'])).toEqual(events.map((_, i) => i + 1));
    expect(events[0]).toMatchObject({ type: 'status', data: { status: 'queued' } });
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'output', data: { stream: 'stdout', text: 'ran: x = 2\n' } }),
    );
    expect(lines.at(-1)).toMatchObject({ type: 'task', status: 'succeeded', result: { echo: 'x = 2' } });
    expect(run.stderr).toBe('');
  });

  it('exec reads FILE and stdin, and without --follow prints the task id', async () => {
    const file = join(scratch, 'job.py');
    writeFileSync(file, 'y = 3\n');
    const fromFile = await runCli(['exec', file], env);
    expect(fromFile.code).toBe(0);
    const id = fromFile.stdout.trim();
    expect((await sb.waitFor(id)).result).toEqual({ echo: 'y = 3\n' });

    const fromStdin = await runCli(['exec', '-', '--follow'], env, 'z = 4\n');
    expect(fromStdin.stdout).toContain('ran: z = 4');
    expect(fromStdin.code).toBe(0);
  });

  it('status, tasks and extensions show what the hub holds', async () => {
    const task = await sb.submit({ code: 'a = 1' });
    await sb.waitFor(task.id);

    const status = await runCli(['status', task.id], env);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`^id +${task.id}$`, 'm'));
    expect(status.stdout).toMatch(/^status +succeeded$/m);
    const statusJson = await runCli(['status', task.id, '--json'], env);
    expect(JSON.parse(statusJson.stdout)).toMatchObject({ type: 'task', id: task.id, status: 'succeeded' });

    const tasks = await runCli(['tasks', '--status', 'succeeded', '--limit', '100'], env);
    expect(tasks.code).toBe(0);
    expect(tasks.stdout).toMatch(/^ID +STATUS/);
    expect(tasks.stdout).toContain(task.id);
    const tasksJson = await runCli(['--json', 'tasks', '--limit', '1'], env);
    const rows = tasksJson.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string });
    expect(rows[0]).toMatchObject({ type: 'task_summary' });

    const exts = await runCli(['extensions'], env);
    expect(exts.code).toBe(0);
    expect(exts.stdout).toMatch(new RegExp(`^${ext.extensionId} +cli-ext +online +\\d/4`, 'm'));
    const extsJson = await runCli(['extensions', '--json'], env);
    expect(JSON.parse(extsJson.stdout.trim().split('\n')[0]!)).toMatchObject({
      type: 'extension',
      id: ext.extensionId,
    });
  });

  it('cancel stops a running task and watch exits 3 for it', async () => {
    const task = await sb.submit({ code: 'hang()' });
    for await (const e of sb.follow(task.id)) if (e.type === 'status' && e.data.status === 'running') break;

    const cancel = await runCli(['cancel', task.id], env);
    expect(cancel.code).toBe(0);
    expect(cancel.stdout).toMatch(new RegExp(`^${task.id} (running|cancelled)\\n$`));

    const watch = await runCli(['watch', task.id], env);
    expect(watch.stderr).toContain('[status] queued');
    expect(watch.stderr).toContain('✖ cancelled');
    expect(watch.code).toBe(3);
  });

  it('a task past its timeout exits 4', async () => {
    const run = await runCli(['exec', '-c', 'hang()', '--timeout', '0.3', '--follow'], env);
    expect(run.stderr).toContain('✖ timed_out');
    expect(run.code).toBe(4);
  });

  it('falls back to the admin token in <SWITCHBOARD_DATA_DIR>/tokens.json', async () => {
    const run = await runCli(['tasks', '--limit', '1'], {
      SWITCHBOARD_URL: hub.url,
      SWITCHBOARD_DATA_DIR: hub.dataDir,
    });
    expect(run.stderr).not.toContain('error');
    expect(run.stdout).toMatch(/^ID +STATUS/);
    expect(run.code).toBe(0);
  });

  it('bad usage exits 2 with a clear message', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['exec'], /error: missing FILE or -c CODE/],
      [['exec', '-c', 'x', 'file.py'], /either FILE or -c CODE/],
      [['frobnicate'], /unknown command 'frobnicate'/],
      [['tasks', '--limit', 'many'], /--limit expects an integer >= 1, got 'many'/],
      [['tasks', '--status', 'done'], /--status must be one of queued, /],
      [['status'], /missing task ID/],
      [['exec', '-c', 'x', '--target', 'label:no spaces'], /--target 'label:no spaces'/],
      [['watch', 'id', '--bogus'], /Unknown option '--bogus'/],
    ];
    const runs = await Promise.all(cases.map(([args]) => runCli(args, env)));
    runs.forEach((run, i) => {
      expect(run.stderr).toMatch(cases[i]![1]);
      expect(run.stderr).toContain('--help');
      expect(run.code).toBe(2);
    });
    const noToken = await runCli(['tasks'], { SWITCHBOARD_URL: hub.url, SWITCHBOARD_DATA_DIR: scratch });
    expect(noToken.stderr).toContain('no token');
    expect(noToken.code).toBe(2);
  });

  it('--help shows usage and examples and exits 0', async () => {
    const help = await runCli(['exec', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: switchboard exec FILE | -c CODE');
    expect(help.stdout).toContain('Examples:');
    const top = await runCli(['--help']);
    expect(top.stdout).toMatch(/Commands:[\s\S]*watch/);
    expect(top.code).toBe(0);
  });

  it('an unreachable hub or a refused token exits 5', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    await new Promise((r) => server.close(r));
    const [down, downFollow, refused] = await Promise.all([
      runCli(['tasks', '--hub', `http://127.0.0.1:${port}`], env),
      runCli(['watch', 'some-id', '--hub', `http://127.0.0.1:${port}`], env),
      runCli(['extensions', '--token', 'sb_wrong_token_0123456789'], env),
    ]);
    expect(down.stderr).toContain('cannot reach the hub');
    expect(down.code).toBe(5);
    expect(downFollow.code).toBe(5);
    expect(refused.stderr).toMatch(/error: .*token/i);
    expect(refused.code).toBe(5);
  });
});

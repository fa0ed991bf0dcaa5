import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SwitchboardClient } from '../../client/sdk/index.js';
import { CLI_BIN, runCli, runCliInPty } from '../helpers/cli.js';
import { until } from '../helpers/clients.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import {
  codeDrivenScript,
  type ScriptedExtension,
  scriptedExtension,
} from '../helpers/scripted-extension.js';

// Each run starts a node process that compiles the CLI with tsx: allow for a loaded machine.
describe('switchboard CLI against a real hub', { timeout: 120_000 }, () => {
  let hub: TestHub;
  let ext: ScriptedExtension;
  let env: Record<string, string>;
  let sb: SwitchboardClient;
  const scratch = mkdtempSync(join(tmpdir(), 'sb-cli-'));

  beforeAll(async () => {
    hub = await startTestHub({ statsSampleMs: 250 });
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

  it('falls back to the operator token in <SWITCHBOARD_DATA_DIR>/tokens.json', async () => {
    const run = await runCli(['tasks', '--limit', '1'], {
      SWITCHBOARD_URL: hub.url,
      SWITCHBOARD_DATA_DIR: hub.dataDir,
    });
    expect(run.stderr).not.toContain('error');
    expect(run.stdout).toMatch(/^ID +STATUS/);
    expect(run.code).toBe(0);
    // Operator, not admin: a file with only the admin token is not used for everyday commands...
    const adminOnly = mkdtempSync(join(scratch, 'admin-only-'));
    writeFileSync(join(adminOnly, 'tokens.json'), JSON.stringify({ admin: hub.tokens.admin }));
    const refused = await runCli(['tasks'], { SWITCHBOARD_URL: hub.url, SWITCHBOARD_DATA_DIR: adminOnly });
    expect(refused.stderr).toContain('holds no operator token');
    expect(refused.code).toBe(2);
    // ...one with only the operator token works...
    const operatorOnly = mkdtempSync(join(scratch, 'operator-only-'));
    writeFileSync(join(operatorOnly, 'tokens.json'), JSON.stringify({ operator: hub.tokens.operator }));
    const ok = await runCli(['tasks', '--limit', '1'], {
      SWITCHBOARD_URL: hub.url,
      SWITCHBOARD_DATA_DIR: operatorOnly,
    });
    expect(ok.code).toBe(0);
    // ...and the admin command `hosts` takes the admin one.
    const hosts = await runCli(['hosts', 'forget', 'nobody-here'], {
      SWITCHBOARD_URL: hub.url,
      SWITCHBOARD_DATA_DIR: hub.dataDir,
    });
    expect(hosts.stdout).toBe('nobody-here had no secret\n');
    expect(hosts.code).toBe(0);
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
      [['watch', 'id', '--bogus'], /^error: unknown option '--bogus'\n/],
      [['tasks', '--limt', '5'], /^error: unknown option '--limt'; did you mean --limit\?\n/],
      [['tasks', '--limit'], /^error: --limit needs a value\n/],
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
  it('tasks shows name, relative creation time and duration; status exits like watch', async () => {
    const ok = await sb.submit({ code: 'b = 2' });
    const bad = await sb.submit({ code: 'fail()' });
    await sb.waitFor(ok.id);
    await sb.waitFor(bad.id);
    const list = await runCli(['tasks', '--limit', '5'], env);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^ID +STATUS +KIND +NAME +TARGET +EXTENSION +CREATED +TOOK +WAITING$/m);
    expect(list.stdout).toMatch(
      new RegExp(`^${ok.id} +succeeded +code +- +any +${ext.extensionId} +\\d+s ago +\\d+\\.\\ds$`, 'm'),
    );
    // Not a terminal (and NO_COLOR): no escape codes.
    expect(list.stdout).not.toContain('\x1b[');

    const failed = await runCli(['status', bad.id], env);
    expect(failed.stdout).toMatch(/^status +failed$/m);
    expect(failed.code).toBe(1);
    expect((await runCli(['status', ok.id], env)).code).toBe(0);
  });

  it('status shows the facts of the kind and why a queued task waits; a reader that stops early is no error', async () => {
    const queued = await sb.submit({
      code: 'print(1)',
      target: { label: 'nobody-has-it' },
      timeoutMs: 60_000,
    });
    const shown = await until(async () => {
      const r = await runCli(['status', queued.id], env);
      return /^waiting /m.test(r.stdout) ? r : null;
    });
    expect(shown.stdout).toMatch(/^waiting +no extension has the label nobody-has-it$/m);
    expect(shown.stdout).toMatch(/^target +label:nobody-has-it$/m);
    expect(shown.code).toBe(0);
    // The list says why too, in its WAITING column; a task that is not queued has nothing there.
    const listed = await runCli(['tasks', '--limit', '5'], env);
    expect(listed.stdout).toMatch(
      new RegExp(
        `^${queued.id} +queued +code +- +label:nobody-has-it +- +\\d+s ago +\\S+ +no extension has the label nobody-has-it$`,
        'm',
      ),
    );
    const notQueued = listed.stdout.split('\n').filter((l) => l.includes(' succeeded '));
    expect(notQueued.length).toBeGreaterThan(0);
    for (const line of notQueued) expect(line).not.toMatch(/no extension/);
    await sb.cancel(queued.id);
    const gone = await runCli(['status', queued.id], env);
    expect(gone.stdout).not.toMatch(/^waiting/m);

    // A reader that hangs up before the list comes (`| head -1`, here `| true`): the CLI ends quietly, 0.
    for (let i = 0; i < 3; i++) await sb.waitFor((await sb.submit({ code: `x = ${i}` })).id);
    // Async: the hub answering the CLI runs in this process.
    const piped = await promisify(execFile)(
      'bash',
      ['-c', `set -o pipefail; "${process.execPath}" "${CLI_BIN}" tasks --json --limit 200 | true`],
      { env: { PATH: process.env['PATH'], ...env } },
    );
    expect(piped.stderr).not.toMatch(/EPIPE|Unhandled/);
  });

  it('top --once and --json show the queue, the extensions and the running tasks', async () => {
    const task = await sb.submit({ code: 'hang()', target: { extensionId: ext.extensionId } });
    for await (const e of sb.follow(task.id)) if (e.type === 'status' && e.data.status === 'running') break;
    try {
      // The overview samples every 250 ms here: wait for one that has seen the job.
      const record = await (async () => {
        for (let i = 0; i < 40; i++) {
          const run = await runCli(['top', '--once', '--json'], env);
          expect(run.code).toBe(0);
          const lines = run.stdout.trimEnd().split('\n');
          expect(lines).toHaveLength(1);
          const r = JSON.parse(lines[0] as string) as {
            type: string;
            sample: {
              queueDepth: number;
              extensions: Array<{ id: string; state: string; running: number }>;
            } | null;
            running: Array<{ id: string }>;
          };
          const mine = r.sample?.extensions.find((e) => e.id === ext.extensionId);
          if (mine && mine.running > 0) return r;
        }
        throw new Error('no sample showed the running job');
      })();
      expect(record.type).toBe('top');
      expect(record.sample?.queueDepth).toBe(0);
      expect(record.sample?.extensions.find((e) => e.id === ext.extensionId)?.state).toBe('busy');
      expect(record.running.map((t) => t.id)).toContain(task.id);

      const human = await runCli(['top', '--once'], env);
      expect(human.code).toBe(0);
      expect(human.stdout).toMatch(/^QUEUED \d+ +RUNNING \d+ +STARTED [\d.]+\/s +FINISHED [\d.]+\/s/m);
      expect(human.stdout).toMatch(new RegExp(`^${ext.extensionId} +cli-ext +busy +[1-4]/4$`, 'm'));
      expect(human.stdout).toMatch(
        new RegExp(`^${task.id} +running +code +- +${ext.extensionId} +\\d+\\.\\ds…$`, 'm'),
      );
      expect(human.stdout).not.toContain('\x1b[');
    } finally {
      await sb.cancel(task.id);
    }
  });

  it('on a terminal: top draws on the alternate screen and leaves it on Ctrl-C; lists are coloured', async () => {
    const top = await runCliInPty(['top', '--interval', '0.5'], env, 'QUEUE');
    expect(top.stdout).toContain('\x1b[?1049h');
    expect(top.stdout).toContain('\x1b[H\x1b[2J');
    expect(top.stdout).toContain('cli-ext');
    // Left the alternate screen and showed the cursor again, with nothing printed after.
    expect(top.stdout.trimEnd().endsWith('\x1b[?25h\x1b[?1049l')).toBe(true);
    expect(top.code).toBe(0);

    const done = await sb.submit({ code: 'c = 3' });
    await sb.waitFor(done.id);
    const list = await runCliInPty(['tasks', '--limit', '3'], env);
    expect(list.stdout).toContain('\x1b[32msucceeded\x1b[0m');
    const plain = await runCliInPty(['tasks', '--limit', '3'], { ...env, NO_COLOR: '1' });
    expect(plain.stdout).not.toContain('\x1b[32m');
  });

  it('a traceback on a terminal: full contrast, the exception line in bold red', async () => {
    const tb = await scriptedExtension(
      hub.url,
      hub.tokens.extension,
      { name: 'tb-ext', labels: ['tb'] },
      async (api) => {
        await api.started();
        await api.result({
          status: 'failed',
          error: {
            message: 'ZeroDivisionError: division by zero',
            type: 'ZeroDivisionError',
            traceback:
              'Traceback (most recent call last):\n  File "<job>", line 1, in <module>\n    1 / 0\nZeroDivisionError: division by zero\n',
          },
        });
      },
    );
    try {
      const task = await sb.submit({ code: '1 / 0', target: { label: 'tb' } });
      await sb.waitFor(task.id);
      const run = await runCliInPty(['status', task.id], env);
      expect(run.code).toBe(1);
      expect(run.stdout).toContain('\x1b[31m\x1b[1mZeroDivisionError: division by zero\x1b[0m\x1b[0m');
      expect(run.stdout).toMatch(/\r?\n {4}1 \/ 0\r?\n/);
      // The frames are not dimmed wholesale (only the File lines are).
      expect(run.stdout).not.toContain('\x1b[2mTraceback');
    } finally {
      tb.close();
    }
  });
});

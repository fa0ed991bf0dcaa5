import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { loopInputs, loopSchema } from '../helpers/flowgram-loop.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

// Each run starts a node process that compiles the CLI with tsx: allow for a loaded machine.
describe('switchboard flow', { timeout: 180_000 }, () => {
  let hub: TestHub;
  let dir: string;
  let env: Record<string, string>;
  const file = (name: string, value: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
    return path;
  };

  beforeAll(async () => {
    hub = await startTestHub({ store: 'memory' });
    env = { SWITCHBOARD_URL: hub.url, SWITCHBOARD_TOKEN: hub.tokens.operator };
    dir = mkdtempSync(join(tmpdir(), 'sb-flow-cli-'));
  });
  afterAll(async () => {
    await hub?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('run --follow shows each node start and end live, loop iterations, then the result; exit 0', async () => {
    const schema = file('loop.json', loopSchema());
    const inputs = file('inputs.json', loopInputs(3));
    const r = await runCli(['flow', 'run', schema, '--inputs', inputs, '--follow'], env);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.split('\n');
    expect(lines[0]).toMatch(/^\[task\] t_/);
    const nodeLines = lines.filter((l) => /^[▶✔✖] \S+ \(/.test(l));
    expect(nodeLines[0]).toBe('▶ start_0 (start) started');
    expect(nodeLines[1]).toMatch(/^✔ start_0 \(start\) succeeded \d+(ms|\.\ds)$/);
    for (const n of [1, 2, 3]) {
      expect(nodeLines).toContain(`▶ code_0 (code) #${n} started`);
      expect(nodeLines.some((l) => new RegExp(`^✔ code_0 \\(code\\) #${n} succeeded \\d`).test(l))).toBe(
        true,
      );
    }
    // Starts come before their ends, and the end node last.
    expect(nodeLines.indexOf('▶ code_0 (code) #2 started')).toBeGreaterThan(
      nodeLines.findIndex((l) => l.startsWith('✔ code_0 (code) #1 succeeded')),
    );
    expect(nodeLines.at(-1)).toMatch(/^✔ end_0 \(end\) succeeded/);
    expect(r.stderr).toMatch(/nodes: \d+ succeeded · .*code_0 ran 3×/);
    expect(r.stderr).toMatch(/✔ succeeded/);
    expect(JSON.parse(r.stdout)).toEqual({ results: [0, 2, 4] });
  });

  it('a failing code node fails the run: exit 1, the node line names the error', async () => {
    const schema = file(
      'fails.json',
      loopSchema('async function main({ params }) { throw new TypeError("no " + params.item) }'),
    );
    const inputs = file('inputs1.json', loopInputs(2));
    const r = await runCli(['flow', 'run', schema, '-i', inputs, '-f'], env);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/✖ code_0 \(code\) #1 failed \d+\S*: .*no 0/);
    expect(r.stderr).toMatch(/✖ failed/);
  });

  it('run without --follow prints the task id; --json gives events and flow_node records', async () => {
    const schema = file('loop2.json', loopSchema());
    const inputs = file('inputs2.json', loopInputs(2));
    const plain = await runCli(['flow', 'run', schema, '--inputs', inputs], env);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout.trim()).toMatch(/^t_\S+$/);
    const watched = await runCli(['watch', plain.stdout.trim()], env);
    expect(watched.code, watched.stderr).toBe(0);

    const r = await runCli(
      ['flow', 'run', schema, '--inputs', '-', '--follow', '--json'],
      env,
      JSON.stringify(loopInputs(2)),
    );
    expect(r.code, r.stderr).toBe(0);
    const records = r.stdout
      .trim()
      .split('\n')
      .map(
        (l) => JSON.parse(l) as { type: string; node?: string; run?: number; state?: string; kind?: string },
      );
    const code = records.filter((x) => x.type === 'flow_node' && x.node === 'code_0');
    expect(code.map((x) => `${x.kind}${x.run}:${x.state}`)).toEqual([
      'start1:running',
      'end1:succeeded',
      'start2:running',
      'end2:succeeded',
    ]);
    expect(records.some((x) => x.type === 'node_start')).toBe(true);
    expect(records.at(-1)).toMatchObject({ type: 'task', kind: 'flowgram', status: 'succeeded' });
  });

  it('validate: exit 0 when valid, 1 with the errors, 2 for an unreadable file', async () => {
    const valid = await runCli(
      ['flow', 'validate', file('v.json', loopSchema()), '--inputs', file('v-inputs.json', loopInputs(2))],
      env,
    );
    expect(valid.code, valid.stderr).toBe(0);
    expect(valid.stdout).toContain('✔ valid');

    const noEnd = loopSchema() as { nodes: Array<{ id: string }> };
    noEnd.nodes = noEnd.nodes.filter((n) => n.id !== 'end_0');
    const invalid = await runCli(['flow', 'validate', file('noend.json', noEnd)], env);
    expect(invalid.code).toBe(1);
    expect(invalid.stdout).toContain('✖ Workflow schema must have an end node');

    const badInputs = await runCli(
      [
        'flow',
        'validate',
        file('v2.json', loopSchema()),
        '--inputs',
        file('bad-inputs.json', { items: 'nope' }),
      ],
      env,
    );
    expect(badInputs.code).toBe(1);
    expect(badInputs.stdout).toMatch(/✖ .*items/);

    const json = await runCli(['flow', 'validate', file('noend2.json', noEnd), '--json'], env);
    const record = JSON.parse(json.stdout) as { type: string; valid: boolean; errors: string[] };
    expect(record).toMatchObject({ type: 'validation', valid: false });
    expect(record.errors).toContain('Workflow schema must have an end node');
    expect(json.code).toBe(1);

    const broken = await runCli(['flow', 'validate', file('broken.json', '{"nodes": [')], env);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/SCHEMA .*broken\.json is not valid JSON/);
    const missing = await runCli(['flow', 'run'], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('missing SCHEMA.json');
  });

  it('--help shows usage and examples', async () => {
    const r = await runCli(['flow', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: switchboard flow (run | validate) SCHEMA.json');
    expect(r.stdout).toContain('switchboard flow run schema.json --inputs inputs.json --follow');
    const general = await runCli(['--help']);
    expect(general.stdout).toMatch(/flow\s+Run or validate a FlowGram workflow schema/);
  });
});

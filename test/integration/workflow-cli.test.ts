import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { type FakeOpenAI, startFakeOpenAI } from '../helpers/fake-openai.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

// Each run starts a node process that compiles the CLI with tsx: allow for a loaded machine.
describe('switchboard run', { timeout: 60_000 }, () => {
  let hub: TestHub;
  let model: FakeOpenAI;
  let env: Record<string, string>;

  beforeAll(async () => {
    model = await startFakeOpenAI();
    hub = await startTestHub({ store: 'memory' });
    env = { SWITCHBOARD_URL: hub.url, SWITCHBOARD_TOKEN: hub.tokens.operator };
  });
  afterAll(async () => {
    await hub?.close();
    await model?.close();
  });

  it('--follow prints tokens as they arrive, tool calls as lines, and exits 0', async () => {
    model.script(
      { toolCalls: [{ name: 'calculator', arguments: { expression: '17 * 23' } }] },
      { text: 'The product is 391.' },
    );
    const r = await runCli(
      [
        'run',
        'agent_chat',
        '-m',
        'What is 17 * 23?',
        '--tool',
        'calculator',
        '--model',
        'fake',
        '--base-url',
        model.url,
        '--api-key',
        'sk-cli-key-123456',
        '--follow',
      ],
      env,
    );
    expect(r.stderr).toMatch(/\[task\] t_/);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('The product is 391.\n');
    expect(r.stderr).toContain('[tool] calculator {"expression":"17 * 23"}');
    expect(r.stderr).toContain('[tool] calculator done');
    expect(r.stderr).toMatch(/✔ succeeded/);
    expect(model.requests.at(-1)?.headers.authorization).toBe('Bearer sk-cli-key-123456');
  });

  it("--follow shows kit_execute's code as Python lines, not an escaped JSON string", async () => {
    model.script(
      { toolCalls: [{ name: 'kit_execute', arguments: { code: 'import omni.usd\nprint("hi")' } }] },
      { text: 'No extension was online.' },
    );
    const r = await runCli(
      [
        'run',
        'omniverse_agent',
        '-m',
        'say hi in Kit',
        '--model',
        'fake',
        '--base-url',
        model.url,
        '--follow',
      ],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('[tool] kit_execute\n    import omni.usd\n    print("hi")\n');
    expect(r.stderr).not.toContain('\\n');
    expect(r.stderr).toContain('[tool] kit_execute failed');
  });

  it('--json gives NDJSON events ending with the task', async () => {
    const r = await runCli(['run', 'agent_chat', '-m', 'hello', '--follow', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const records = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; data?: { text?: string } });
    expect(records.at(-1)).toMatchObject({ type: 'task', kind: 'workflow', status: 'succeeded' });
    expect(records.some((e) => e.type === 'token')).toBe(true);
    const text = records
      .filter((e) => e.type === 'token')
      .map((e) => e.data?.text)
      .join('');
    expect(text).toContain('switchboard-demo');
    expect(records.find((e) => e.type === 'done')).toBeDefined();
  });

  it('without --follow prints the task id; bad input is a usage error naming the field', async () => {
    const r = await runCli(['run', 'agent_chat', '-m', 'hi'], env);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^t_/);
    const unknown = await runCli(['run', 'nope', '-m', 'hi'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no workflow named "nope".*\(field: workflow\)/);
    const missing = await runCli(['run', 'agent_chat'], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('give --message TEXT or --input FILE');
    const badTool = await runCli(['run', 'agent_chat', '-m', 'x', '--tool', 'rm_rf'], env);
    expect(badTool.code).toBe(2);
    expect(badTool.stderr).toContain('field: runtime_config.tools.0');
  });
});

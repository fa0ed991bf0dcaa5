import { describe, expect, it } from 'vitest';
import { Output } from '../../client/cli/output.js';
import type { TaskEvent } from '../../server/protocol/index.js';

const ESC = String.fromCharCode(27);

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  return { isTTY, chunks, write: (t: string) => chunks.push(t), text: () => chunks.join('') };
}

const status = (seq: number, s: 'queued' | 'dispatched' | 'running'): TaskEvent => ({
  taskId: 't',
  seq,
  ts: new Date().toISOString(),
  type: 'status',
  data: { status: s, reason: 'submitted', extensionId: s === 'queued' ? undefined : 'kit-1' },
});
const output = (seq: number, text: string): TaskEvent => ({
  taskId: 't',
  seq,
  ts: new Date().toISOString(),
  type: 'output',
  data: { stream: 'stdout', text },
});

describe('CLI output', () => {
  it('shows a spinner on a terminal while the task waits, and wipes it before output', async () => {
    const out = sink(true);
    const err = sink(true);
    const o = new Output({ stdout: out, stderr: err, json: false, env: {} });
    o.event(status(1, 'queued'));
    await new Promise((r) => setTimeout(r, 200));
    expect(err.text()).toMatch(new RegExp(`\r${ESC}\\[2K⠋ .*queued.* \\d\\.\\ds`));
    expect(err.chunks.length).toBeGreaterThan(1);
    o.event(status(2, 'dispatched'));
    o.event(status(3, 'running'));
    expect(err.chunks.at(-1)).toMatch(/\[status\] running on kit-1/);
    expect(err.chunks.at(-2)).toBe('\r\x1b[2K');
    o.event(output(4, 'hello\n'));
    expect(out.text()).toBe('hello\n');
    const before = err.chunks.length;
    await new Promise((r) => setTimeout(r, 200));
    expect(err.chunks.length).toBe(before);
  });

  it('never writes control codes to a pipe', () => {
    const out = sink(false);
    const err = sink(false);
    const o = new Output({ stdout: out, stderr: err, json: false, env: {} });
    o.event(status(1, 'queued'));
    o.event(status(2, 'running'));
    o.event(output(3, 'x\n'));
    expect(err.text()).toBe('[status] queued\n[status] running on kit-1\n');
    expect(err.text() + out.text()).not.toContain(ESC);
  });

  it('prints NDJSON in JSON mode', () => {
    const out = sink(true);
    const err = sink(true);
    const o = new Output({ stdout: out, stderr: err, json: true, env: {} });
    o.event(status(1, 'queued'));
    expect(JSON.parse(out.text())).toMatchObject({ seq: 1, type: 'status' });
    expect(err.text()).toBe('');
  });
});

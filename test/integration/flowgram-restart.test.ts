import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlowReport } from '../../server/protocol/flowgram.js';
import { http, until } from '../helpers/clients.js';
import { type MockHttp, startMockHttp } from '../helpers/flowgram.js';
import * as fg from '../helpers/flowgram-schemas.js';
import { startTestHub } from '../helpers/hub.js';

let dataDir: string;
let mock: MockHttp;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'sb-flowgram-restart-'));
  mock = await startMockHttp();
});
afterAll(async () => {
  await mock?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const loop = fg.schemaOf(
  [
    fg.start({ items: { type: 'array', items: { type: 'integer' } } }),
    {
      id: 'loop_0',
      type: 'loop',
      meta: { position: { x: 0, y: 0 } },
      data: {
        title: 'Loop',
        loopFor: { type: 'ref', content: ['start_0', 'items'] },
        loopOutputs: { doubled: { type: 'ref', content: ['code_0', 'result'] } },
      },
      blocks: [
        { id: 'block_start_0', type: 'block-start', meta: { position: { x: 0, y: 0 } }, data: {} },
        fg.code(
          'code_0',
          'async function main({ params }) { return { result: params.n * 2 }; }',
          {
            n: ['loop_0_locals', 'item', 'integer'],
          },
          { result: 'integer' },
        ),
        { id: 'block_end_0', type: 'block-end', meta: { position: { x: 0, y: 0 } }, data: {} },
      ],
      edges: [fg.edge('block_start_0', 'code_0'), fg.edge('code_0', 'block_end_0')],
    },
    fg.end({ doubled: ['loop_0', 'doubled', 'array'] }),
  ],
  [fg.edge('start_0', 'loop_0'), fg.edge('loop_0', 'end_0')],
);

describe('FlowGram reports across a hub restart', () => {
  it('rebuilds a finished report from the store, and ends a run the restart interrupted', async () => {
    const first = await startTestHub({ dataDir });
    const api = <T>(h: typeof first, method: string, path: string, body?: unknown) =>
      http<T>(h.url, h.tokens.operator, method, path, body);
    const done = await api<{ taskID: string }>(first, 'POST', '/api/task/run', {
      schema: JSON.stringify(loop),
      inputs: { items: [1, 2, 3] },
    });
    const before = await until(async () => {
      const r = await api<FlowReport>(first, 'GET', `/api/task/report?taskID=${done.body.taskID}`);
      return r.body.workflowStatus.terminated ? r.body : null;
    });
    expect(before.outputs).toEqual({ doubled: [2, 4, 6] });
    // One snapshot per iteration, in order.
    expect(before.reports['code_0']?.snapshots.map((s) => s.outputs)).toEqual([
      { result: 2 },
      { result: 4 },
      { result: 6 },
    ]);
    mock.hang();
    const interrupted = await api<{ taskID: string }>(first, 'POST', '/api/task/run', {
      schema: JSON.stringify(fg.single(fg.http('http_0', `http://${mock.host}/slow`), 'body')),
      inputs: {},
    });
    await until(() => mock.calls.length === 1, 10_000, 'the request');
    await first.stop();
    await until(() => mock.closed === 1, 10_000, 'the request to be aborted on shutdown');

    const second = await startTestHub({ dataDir });
    try {
      const after = await api<FlowReport>(second, 'GET', `/api/task/report?taskID=${done.body.taskID}`);
      expect(after.status).toBe(200);
      expect(after.body).toEqual(before);
      const result = await api(second, 'GET', `/api/task/result?taskID=${done.body.taskID}`);
      expect(result.body).toEqual({ doubled: [2, 4, 6] });
      const cut = await api<FlowReport>(second, 'GET', `/api/task/report?taskID=${interrupted.body.taskID}`);
      expect(cut.body.workflowStatus).toMatchObject({ status: 'failed', terminated: true });
      expect(cut.body.reports['http_0']?.status).toBe('canceled');
      expect(cut.body.messages['error']?.[0]?.message).toMatch(/shut down/);
    } finally {
      await second.close();
    }
  });
});

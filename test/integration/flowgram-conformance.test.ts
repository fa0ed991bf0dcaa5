import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlowReport } from '../../server/protocol/flowgram.js';
import { http, until } from '../helpers/clients.js';
import { type FakeOpenAI, startFakeOpenAI } from '../helpers/fake-openai.js';
import {
  CONFORMANCE_DIR,
  conformanceAvailable,
  loadSchema,
  type MockHttp,
  type RunCase,
  runCases,
  serveStandInModel,
  startMockHttp,
  validationCases,
} from '../helpers/flowgram.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

/**
 * Every case of FlowGram's own test suite, through the hub's FlowGram API against a real hub: the llm node
 * talks to the local OpenAI-compatible server, the http node to a local HTTP server. Two rewrites, both
 * forced by running over real networks rather than in-process stand-ins: the model's `apiHost` and the
 * request host point at the local servers, and the llm snapshot's `apiKey` is `[redacted]` (the hub never
 * publishes API keys). Everything else is compared as recorded.
 */
const MODEL_HOST = 'https://mock-ai-url/api/v3';
const REDACTED = '[redacted]';
const reason = `conformance data not found at ${CONFORMANCE_DIR} (it lives beside the project checkout)`;
if (!conformanceAvailable) console.warn(`FlowGram conformance suite skipped: ${reason}`);

let hub: TestHub;
let model: FakeOpenAI;
let mock: MockHttp;
let token: string;

const api = <T>(method: string, path: string, body?: unknown) => http<T>(hub.url, token, method, path, body);

/** Deep-replaces strings: the model's host, and (http cases) the request host and its URLs. */
function rewrite<T>(value: T, map: (s: string) => string): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return map(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}

function prepare(c: RunCase) {
  const origHost = typeof c.inputs['host'] === 'string' ? c.inputs['host'] : undefined;
  const map = (s: string) => {
    if (s === MODEL_HOST) return `${model.url}`;
    if (c.mocks && origHost) {
      if (s === origHost) return mock.host;
      if (s.startsWith(`https://${origHost}`))
        return `http://${mock.host}${s.slice(`https://${origHost}`.length)}`;
      if (s === 'https://{{start_0.host}}{{start_0.path}}') return 'http://{{start_0.host}}{{start_0.path}}';
    }
    return s;
  };
  const schema = rewrite(loadSchema(c.schema), map);
  const inputs = rewrite(c.inputs, map);
  const expected = rewrite(c.expected, map);
  for (const s of expected.snapshots) {
    if (typeof s.inputs['apiKey'] === 'string') s.inputs['apiKey'] = REDACTED;
  }
  const calls = rewrite(c.mocks?.fetch.expectedCalls ?? [], map);
  return { schema, inputs, expected, calls };
}

async function finished(taskID: string): Promise<FlowReport> {
  return until(
    async () => {
      const r = await api<FlowReport>('GET', `/api/task/report?taskID=${taskID}`);
      expect(r.status).toBe(200);
      return r.body.workflowStatus.terminated ? r.body : null;
    },
    20_000,
    `task ${taskID} to end`,
  );
}

/** The FlowGram status the task had as `POST /api/task/run` answered: its first status after `queued`. */
async function statusRightAfterRun(taskID: string): Promise<string | undefined> {
  const names: Record<string, string> = { running: 'processing', failed: 'failed', queued: 'pending' };
  const statuses = (await hub.hub.ctx.tasks.replay(taskID, 0)).filter((e) => e.type === 'status');
  const second = statuses[1];
  return second?.type === 'status' ? names[second.data.status] : undefined;
}

describe.skipIf(!conformanceAvailable)(
  `FlowGram conformance${conformanceAvailable ? '' : ` (skipped: ${reason})`}`,
  () => {
    beforeAll(async () => {
      model = await startFakeOpenAI();
      serveStandInModel(model);
      mock = await startMockHttp();
      hub = await startTestHub({ llmMaxRetries: 0 });
      token = hub.tokens.operator;
    });
    afterAll(async () => {
      await hub?.close();
      await model?.close();
      await mock?.close();
    });

    const cases = runCases();
    it('has the 34 recorded runs', () => {
      expect(cases.length).toBe(34);
    });

    for (const c of cases) {
      it(`${c.file}: ${c.name}`, async () => {
        const { schema, inputs, expected, calls } = prepare(c);
        if (c.mocks) mock.serve(c.mocks.fetch.responses);
        const run = await api<{ taskID: string }>('POST', '/api/task/run', {
          schema: JSON.stringify(schema),
          inputs,
        });
        expect(run.status).toBe(200);
        const { taskID } = run.body;
        expect(await statusRightAfterRun(taskID)).toBe(expected.statusRightAfterRun);
        const report = await finished(taskID);

        expect(report.workflowStatus.status).toBe(expected.workflowStatus);
        const result = await api('GET', `/api/task/result?taskID=${taskID}`);
        expect(result.body).toEqual(expected.result);
        expect(report.outputs).toEqual(expected.result);
        expect(report.inputs).toEqual(inputs);

        const statuses = Object.fromEntries(Object.entries(report.reports).map(([id, r]) => [id, r.status]));
        expect(statuses).toEqual(expected.nodeStatus);

        const snapshots = Object.values(report.reports)
          .flatMap((r) => r.snapshots)
          .sort((a, b) => Number(a.id.split(':')[1]) - Number(b.id.split(':')[1]));
        const network = c.name.endsWith('should handle network error');
        expect(snapshots.map((s) => s.nodeID)).toEqual(expected.snapshots.map((s) => s.nodeID));
        for (const [i, want] of expected.snapshots.entries()) {
          const got = snapshots[i];
          expect(got?.inputs, `${want.nodeID} inputs`).toEqual(want.inputs);
          expect(got?.outputs, `${want.nodeID} outputs`).toEqual(want.outputs);
          expect(got?.branch, `${want.nodeID} branch`).toEqual(want.branch);
          if (want.error !== undefined && !network) expect(got?.error).toBe(want.error);
          expect(got?.error === undefined, `${want.nodeID} error`).toBe(want.error === undefined);
        }

        const errors = report.messages['error'] ?? [];
        const wantErrors = expected.messages.error ?? [];
        if (network) {
          expect(errors.map((e) => e.nodeID)).toEqual(['http_0']);
          expect(errors[0]?.message).toMatch(/HTTP request to .* failed/);
        } else {
          expect(
            errors.map((e) => ({ message: e.message, ...(e.nodeID ? { nodeID: e.nodeID } : {}) })),
          ).toEqual(wantErrors);
        }

        if (c.mocks) {
          expect(mock.calls.length).toBe(calls.length);
          for (const [i, [url, init]] of calls.entries()) {
            const got = mock.calls[i];
            expect(got?.url).toBe(url);
            expect(got?.method).toBe(init.method);
            for (const [k, v] of Object.entries(init.headers)) expect(got?.headers[k.toLowerCase()]).toBe(v);
            expect(got?.body).toBe(init.body ?? '');
          }
        }
      });
    }

    const validations = validationCases();
    it('has the 24 recorded validations', () => {
      expect(validations.length).toBe(24);
    });
    for (const v of validations) {
      it(`validation: ${v.name}`, async () => {
        const res = await api('POST', '/api/task/validate', {
          schema: JSON.stringify(v.schema),
          inputs: v.inputs,
        });
        expect(res.status).toBe(200);
        expect(res.body).toEqual(v.expected);
      });
    }
  },
);

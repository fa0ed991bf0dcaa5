import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FakeOpenAI } from './fake-openai.js';

/** The conformance data lives beside the project checkout (`../shared/conformance/flowgram`), never in it. */
export const CONFORMANCE_DIR =
  process.env['SWITCHBOARD_FLOWGRAM_CONFORMANCE'] ??
  resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'conformance', 'flowgram');

export const conformanceAvailable = existsSync(join(CONFORMANCE_DIR, 'cases'));

export interface RunCase {
  file: string;
  name: string;
  schema: string;
  inputs: Record<string, unknown>;
  expected: {
    statusRightAfterRun: string;
    workflowStatus: string;
    result: Record<string, unknown>;
    nodeStatus: Record<string, string>;
    snapshots: Array<{
      nodeID: string;
      data: unknown;
      inputs: Record<string, unknown>;
      outputs?: Record<string, unknown>;
      branch?: string;
      error?: string;
    }>;
    messages: { error?: Array<{ message: string; nodeID?: string }> };
  };
  mocks?: { fetch: { responses: MockResponse[]; expectedCalls: Array<[string, MockCall]> } };
}
export type MockResponse =
  | { status: number; statusText?: string; headers: Record<string, string>; body: string }
  | { reject: string };
export interface MockCall {
  method: string;
  headers: Record<string, string>;
  body?: string;
}
export interface ValidationCase {
  name: string;
  schema: unknown;
  inputs: Record<string, unknown>;
  expected: { valid: boolean; errors?: string[] };
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

export function runCases(): RunCase[] {
  if (!conformanceAvailable) return [];
  const dir = join(CONFORMANCE_DIR, 'cases');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.cases.json') && f !== 'validation.cases.json')
    .sort()
    .flatMap((file) => readJson<Omit<RunCase, 'file'>[]>(join(dir, file)).map((c) => ({ ...c, file })));
}

export function validationCases(): ValidationCase[] {
  if (!conformanceAvailable) return [];
  return readJson<ValidationCase[]>(join(CONFORMANCE_DIR, 'cases', 'validation.cases.json'));
}

export function loadSchema(ref: string): unknown {
  return readJson(resolve(CONFORMANCE_DIR, 'cases', ref));
}

/**
 * Makes the fake OpenAI server answer as the stand-in of FlowGram's own tests did (the README's sentence),
 * streamed in pieces like a real model.
 */
export function serveStandInModel(model: FakeOpenAI): void {
  model.respond((req) => {
    const system = req.body.messages.find((m) => m.role === 'system')?.content;
    const prompt = req.body.messages.find((m) => m.role === 'user')?.content;
    const text = `Hi, I am an AI model, my name is ${req.body.model}, temperature is ${req.body.temperature}, system prompt is "${system}", prompt is "${prompt}"`;
    return { text };
  });
}

export interface RecordedCall {
  url: string;
  method: string;
  headers: IncomingMessage['headers'];
  body: string;
  /** When the request arrived (Date.now()): retries' backoff shows in the gaps. */
  at: number;
}

/** A local HTTP server answering with a case's recorded responses in order (`reject` drops the connection). */
export interface MockHttp {
  host: string;
  calls: RecordedCall[];
  serve(responses: MockResponse[]): void;
  /** Holds every request open until the client gives up (for cancel tests); `closed` counts hang-ups. */
  hang(): void;
  closed: number;
  close(): Promise<void>;
}

export async function startMockHttp(): Promise<MockHttp> {
  let queue: MockResponse[] = [];
  let hanging = false;
  const state: MockHttp = {
    host: '',
    calls: [],
    closed: 0,
    serve(responses) {
      queue = [...responses];
      hanging = false;
      state.calls.length = 0;
    },
    hang() {
      hanging = true;
      state.calls.length = 0;
      state.closed = 0;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    state.calls.push({
      url: `http://${req.headers.host}${req.url}`,
      method: req.method ?? '',
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
      at: Date.now(),
    });
    if (hanging) {
      res.on('close', () => {
        state.closed += 1;
      });
      return;
    }
    const next = queue.shift();
    if (!next || 'reject' in next) {
      req.socket.destroy();
      return;
    }
    // Written raw, so the response carries exactly the recorded headers (no Date, Connection, length):
    // the body ends when the connection closes.
    const head = Object.entries(next.headers).map(([k, v]) => `${k}: ${v}\r\n`);
    req.socket.end(`HTTP/1.1 ${next.status} ${next.statusText ?? ''}\r\n${head.join('')}\r\n${next.body}`);
  });
  const address = await new Promise<AddressInfo>((r) =>
    server.listen(0, '127.0.0.1', () => r(server.address() as AddressInfo)),
  );
  state.host = `127.0.0.1:${address.port}`;
  return state;
}

import type { NodeExecutor } from '../engine.js';
import type { FlowValue, JsonSchemaDecl } from '../schema.js';
import type { RunState } from '../state.js';

interface HttpData {
  api: { method: string; url: FlowValue };
  headers?: JsonSchemaDecl;
  headersValues?: Record<string, FlowValue>;
  params?: JsonSchemaDecl;
  paramsValues?: Record<string, FlowValue>;
  body?: {
    bodyType?: string;
    json?: FlowValue;
    binary?: FlowValue;
    formData?: JsonSchemaDecl;
    formDataValues?: Record<string, FlowValue>;
    xWwwFormUrlencoded?: JsonSchemaDecl;
    xWwwFormUrlencodedValues?: Record<string, FlowValue>;
  };
  timeout?: { timeout?: number; retryTimes?: number };
}

const CONTENT_TYPES: Record<string, string> = {
  JSON: 'application/json',
  'x-www-form-urlencoded': 'application/x-www-form-urlencoded',
  'raw-text': 'text/plain',
  binary: 'application/octet-stream',
};

function templated(state: RunState, value: FlowValue | undefined, what: string): string {
  const v = value ? state.parseTemplate(value) : null;
  if (!v) throw new Error(`HTTP ${what} is required`);
  return String(v.value);
}

function parseBody(data: HttpData, state: RunState): { bodyType: string; body: string } {
  const b = data.body ?? {};
  const bodyType = b.bodyType ?? 'none';
  switch (bodyType) {
    case 'none':
      return { bodyType, body: '' };
    case 'JSON':
    case 'raw-text':
      return { bodyType, body: templated(state, b.json, 'json body') };
    case 'binary':
      return { bodyType, body: templated(state, b.binary, 'binary body') };
    case 'form-data':
      if (!b.formData || !b.formDataValues) throw new Error('HTTP form-data body is required');
      return { bodyType, body: JSON.stringify(state.parseInputs(b.formDataValues, b.formData)) };
    case 'x-www-form-urlencoded':
      if (!b.xWwwFormUrlencoded || !b.xWwwFormUrlencodedValues)
        throw new Error('HTTP x-www-form-urlencoded body is required');
      return {
        bodyType,
        body: JSON.stringify(state.parseInputs(b.xWwwFormUrlencodedValues, b.xWwwFormUrlencoded)),
      };
    default:
      throw new Error(`HTTP invalid body type "${bodyType}"`);
  }
}

function requestBody(body: string, bodyType: string): BodyInit {
  if (bodyType !== 'form-data' && bodyType !== 'x-www-form-urlencoded') return body;
  let fields: Record<string, unknown>;
  try {
    fields = JSON.parse(body) as Record<string, unknown>;
  } catch {
    throw new Error(`Invalid ${bodyType === 'form-data' ? 'FormData' : 'x-www-form-urlencoded'} body format`);
  }
  if (bodyType === 'x-www-form-urlencoded')
    return new URLSearchParams(Object.entries(fields).map(([k, v]) => [k, String(v)])).toString();
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, String(v));
  return form;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

function describe(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { message?: string; code?: string } };
  if (e?.name === 'TimeoutError') return 'the request timed out';
  return e?.cause?.message ?? e?.cause?.code ?? e?.message ?? String(err);
}

/**
 * http: a request built from the node (templated url, headers, query params, any FlowGram body type), with a
 * per-attempt timeout and `retryTimes` retries on network failure (backoff 1 s, 2 s, 4 s…). Any HTTP status
 * is an answer, not a failure: `{headers, statusCode, body}`. Cancel aborts the request and the backoff.
 */
export const httpNode: NodeExecutor = async ({ node, state, signal, setInputs }) => {
  const data = node.data as unknown as HttpData;
  const method = data.api?.method ?? 'GET';
  const url = templated(state, data.api?.url, 'url');
  const headers = state.parseInputs(data.headersValues, data.headers);
  const params = state.parseInputs(data.paramsValues, data.params);
  const { bodyType, body } = parseBody(data, state);
  const retryTimes = data.timeout?.retryTimes ?? 0;
  const timeout = data.timeout?.timeout ?? 10_000;
  setInputs(
    JSON.parse(JSON.stringify({ method, url, headers, params, bodyType, body, retryTimes, timeout })),
  );

  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new Error(`HTTP url is invalid: "${url}"`);
  }
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') target.searchParams.set(k, String(v));
  }
  const sendHeaders: Record<string, string> = Object.fromEntries(
    Object.entries(headers).map(([k, v]) => [k, String(v)]),
  );
  const contentType = CONTENT_TYPES[bodyType];
  if (contentType && !sendHeaders['Content-Type'] && !sendHeaders['content-type'])
    sendHeaders['Content-Type'] = contentType;
  const sendBody = method !== 'GET' && method !== 'HEAD' && body ? requestBody(body, bodyType) : undefined;

  let lastError: unknown;
  for (let attempt = 0; attempt <= retryTimes; attempt++) {
    try {
      const response = await fetch(target, {
        method,
        headers: sendHeaders,
        ...(sendBody !== undefined ? { body: sendBody } : {}),
        signal: AbortSignal.any([signal, AbortSignal.timeout(timeout)]),
      });
      const responseHeaders: Record<string, string> = {};
      response.headers.forEach((value, key) => {
        responseHeaders[key] = value;
      });
      return {
        outputs: { headers: responseHeaders, statusCode: response.status, body: await response.text() },
      };
    } catch (err) {
      if (signal.aborted) throw err;
      lastError = err;
      if (attempt < retryTimes) await sleep(2 ** attempt * 1000, signal);
    }
  }
  throw new Error(`HTTP request to ${target.origin}${target.pathname} failed: ${describe(lastError)}`);
};

import type { HttpToolSpec } from '../protocol/workflows.js';
import { fill, fillString, TemplateError, usesArgs } from './template.js';
import type { Tool, ToolContext, ToolOutput } from './types.js';

export interface HttpToolLimits {
  /** Seconds, unless the tool names its own timeout. */
  timeoutS: number;
  maxBytes: number;
}

/**
 * A tool declared in the payload that calls an HTTP endpoint. Arguments go where `{{args.X}}` puts them, or
 * else as the query (GET, DELETE) or the JSON body; `{{vault.KEY}}` is filled from the run's vault just
 * before the call, so secrets exist only in the outgoing request.
 */
export class HttpTool implements Tool {
  readonly name: string;
  readonly description: string;
  readonly parameters: Record<string, unknown>;

  constructor(
    private readonly spec: HttpToolSpec,
    private readonly vault: Readonly<Record<string, string>>,
    private readonly limits: HttpToolLimits,
  ) {
    this.name = spec.name;
    this.description = spec.description || `HTTP ${spec.execution_config.method} tool`;
    this.parameters = spec.parameter_schema;
  }

  async run(rawArgs: unknown, ctx: ToolContext): Promise<ToolOutput> {
    const args = rawArgs && typeof rawArgs === 'object' ? (rawArgs as Record<string, unknown>) : {};
    let request: { url: URL; init: RequestInit };
    try {
      request = this.build(args);
    } catch (err) {
      const why = err instanceof TemplateError || err instanceof TypeError ? err.message : 'bad request';
      return { result: { error: `cannot build the request: ${why}` }, isError: true };
    }
    const timeoutS = this.spec.execution_config.timeout ?? this.limits.timeoutS;
    const timeout = AbortSignal.timeout(timeoutS * 1000);
    try {
      const res = await fetch(request.url, {
        ...request.init,
        signal: AbortSignal.any([ctx.signal, timeout]),
      });
      const { text, truncated } = await readCapped(res, this.limits.maxBytes);
      const body = parseBody(text, res.headers.get('content-type'), truncated);
      const result = { status: res.status, body, ...(truncated ? { truncated: true } : {}) };
      return { result, isError: !res.ok };
    } catch (err) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      if (timeout.aborted) return { result: { error: `timed out after ${timeoutS}s` }, isError: true };
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      return { result: { error: `request failed${cause ? ` (${cause})` : ''}` }, isError: true };
    }
  }

  private build(args: Record<string, unknown>): { url: URL; init: RequestInit } {
    const cfg = this.spec.execution_config;
    const scope = { vault: this.vault, args };
    const url = new URL(String(fillString(cfg.url, scope)));
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError('url must be http(s)');
    for (const [k, v] of Object.entries(cfg.query)) url.searchParams.set(k, String(fillString(v, scope)));
    const headers = new Headers();
    for (const [k, v] of Object.entries(cfg.headers)) headers.set(k, String(fillString(v, scope)));
    const placed = usesArgs([cfg.url, cfg.query, cfg.headers, cfg.body]);
    const hasBody = cfg.method !== 'GET' && cfg.method !== 'DELETE';
    if (!placed && !hasBody) {
      for (const [k, v] of Object.entries(args))
        url.searchParams.set(k, typeof v === 'string' ? v : JSON.stringify(v));
    }
    const init: RequestInit = { method: cfg.method, headers };
    if (hasBody) {
      const body = cfg.body !== undefined ? fill(cfg.body, scope) : placed ? undefined : args;
      if (body !== undefined) {
        if (!headers.has('content-type')) headers.set('content-type', 'application/json');
        init.body = typeof body === 'string' ? body : JSON.stringify(body);
      }
    }
    return { url, init };
  }
}

/** Reads at most `max` bytes and then stops the download: a huge answer costs neither memory nor time. */
async function readCapped(res: Response, max: number): Promise<{ text: string; truncated: boolean }> {
  if (!res.body) return { text: '', truncated: false };
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (size + value.byteLength > max) {
      chunks.push(value.subarray(0, max - size));
      truncated = true;
      await reader.cancel();
      break;
    }
    chunks.push(value);
    size += value.byteLength;
  }
  return { text: Buffer.concat(chunks).toString('utf8'), truncated };
}

function parseBody(text: string, contentType: string | null, truncated: boolean): unknown {
  if (truncated || !contentType?.includes('json')) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

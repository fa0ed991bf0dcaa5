/**
 * The client core's HTTP: one request function with the bearer token, a deadline and the shared error model,
 * for the SDK and CLI (Node's fetch) and the monitor (the browser's). Answers come back unparsed; each
 * client checks them against the contract its own way.
 */
import { errorFromHttp, SwitchboardError, toSwitchboardError } from './errors.js';
import { type HubRotation, isIdempotent, neverDelivered } from './hubs.js';

export interface HubHttpOptions {
  /** Hub base URL, e.g. `http://127.0.0.1:4000` (a trailing slash is dropped); '' for the page's own origin. */
  url: string;
  /** Bearer token; none for public routes. */
  token?: string | undefined;
  /** Per-request deadline. */
  timeoutMs: number;
}

export interface HubAnswer {
  status: number;
  /** The body as JSON, its text when it is not JSON, or null when empty. */
  body: unknown;
}

export function baseUrl(url: string): string {
  return url.replace(/\/+$/, '');
}

function headersFor(opts: HubHttpOptions, extra: Record<string, string> = {}): Record<string, string> {
  const headers: Record<string, string> = { ...extra };
  if (opts.token) headers['authorization'] = `Bearer ${opts.token}`;
  return headers;
}

/**
 * One JSON request. A transport failure is `hub_unreachable`, a missed deadline `request_timeout`, a non-2xx
 * answer the hub's own error (or one named after its status); each thrown as a SwitchboardError.
 */
export async function hubRequest(
  opts: HubHttpOptions,
  method: string,
  path: string,
  body?: unknown,
): Promise<HubAnswer> {
  const url = baseUrl(opts.url) + path;
  const what = `${method} ${url}`;
  const headers = headersFor(opts, { accept: 'application/json' });
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  let payload: unknown;
  try {
    res = await fetch(url, {
      method,
      headers,
      body: body === undefined ? null : JSON.stringify(body),
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
    payload = await readJson(res);
  } catch (err) {
    throw toSwitchboardError(err, what);
  }
  if (!res.ok) throw errorFromHttp(res.status, payload);
  return { status: res.status, body: payload };
}

/** The bytes at `url` (a path on the hub or a full URL), with the token; errors as for `hubRequest`. */
export async function hubDownload(opts: HubHttpOptions, url: string): Promise<Uint8Array> {
  const full = /^https?:/.test(url) ? url : baseUrl(opts.url) + url;
  try {
    const res = await fetch(full, { headers: headersFor(opts), signal: AbortSignal.timeout(opts.timeoutMs) });
    if (!res.ok) throw errorFromHttp(res.status, await readJson(res));
    return new Uint8Array(await res.arrayBuffer());
  } catch (err) {
    throw toSwitchboardError(err, `GET ${full}`);
  }
}

/** The body as JSON, or its text when it is not JSON (error pages from proxies), or null when empty. */
export async function readJson(res: Response): Promise<unknown> {
  const text = await res.text();
  if (text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * `hubRequest` against several hubs: starts with the one that answered last and moves on to the next when a
 * hub cannot be reached. A hub's own answer (any status) ends the search. A non-idempotent request moves on
 * only when it provably never reached the hub (connection refused...), since the hub offers no idempotency
 * key: a POST that may have been received is not sent twice. Timeouts are not retried elsewhere either.
 */
export async function hubRequestFailover(
  hubs: HubRotation,
  opts: Omit<HubHttpOptions, 'url'>,
  method: string,
  path: string,
  body?: unknown,
): Promise<HubAnswer> {
  return failover(hubs, method, (url) => hubRequest({ ...opts, url }, method, path, body));
}

/** `hubDownload` for a path on the hub, over several hubs (a full URL is fetched from where it points). */
export function hubDownloadFailover(
  hubs: HubRotation,
  opts: Omit<HubHttpOptions, 'url'>,
  url: string,
): Promise<Uint8Array> {
  if (/^https?:/.test(url)) return hubDownload({ ...opts, url: hubs.current }, url);
  return failover(hubs, 'GET', (base) => hubDownload({ ...opts, url: base }, url));
}

async function failover<T>(hubs: HubRotation, method: string, send: (url: string) => Promise<T>): Promise<T> {
  const failures: SwitchboardError[] = [];
  for (const url of hubs.order()) {
    try {
      const answer = await send(url);
      hubs.succeeded(url);
      return answer;
    } catch (err) {
      const e = err as SwitchboardError;
      const retry = e.code === 'hub_unreachable' && (isIdempotent(method) || neverDelivered(e));
      if (!retry || !hubs.several) throw e;
      failures.push(e);
      hubs.advance();
    }
  }
  const why = failures.map((f) => f.message).join('; ');
  throw new SwitchboardError('hub_unreachable', `none of the ${failures.length} hubs answered: ${why}`, {
    cause: failures.at(-1),
  });
}

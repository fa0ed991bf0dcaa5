import { errorFromHttp, toSwitchboardError } from '../../../core/errors.js';
import type { Result } from './connection.js';
import { storedToken } from './token.js';

/**
 * A JSON request to the hub's HTTP API with the signed-in token, for what the `/monitor` socket does not
 * carry (FlowGram runs, stats). Failures come back as the SDK's errors: the hub's code, or `hub_unreachable`.
 */
export async function hubHttp<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Result<T>> {
  const token = storedToken();
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  try {
    const res = await fetch(`.${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // Not JSON: errorFromHttp names the status.
    }
    if (!res.ok) return { ok: false, error: errorFromHttp(res.status, parsed) };
    return { ok: true, data: parsed as T };
  } catch (err) {
    return { ok: false, error: toSwitchboardError(err, `${method} ${path}`) };
  }
}

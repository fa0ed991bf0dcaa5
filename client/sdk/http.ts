import { z } from 'zod';
import {
  ExtensionInfo,
  HostSecretForgotten,
  HostSecretIssued,
  type SubmitCode,
  Task,
  type TaskListQuery,
  TaskPage,
} from '../../server/protocol/index.js';
import { errorFromHttp, SwitchboardError, toSwitchboardError } from './errors.js';

export interface HttpApiOptions {
  /** Hub base URL, e.g. `http://127.0.0.1:4000`. */
  url: string;
  token: string;
  /** Per-request deadline. */
  timeoutMs: number;
}

const ExtensionList = z.array(ExtensionInfo);

/** The hub's native HTTP API (`/api/v1`) with the bearer token; every answer is checked against the contract. */
export class HttpApi {
  readonly #base: string;
  readonly #token: string;
  readonly #timeoutMs: number;

  constructor(opts: HttpApiOptions) {
    this.#base = opts.url.replace(/\/+$/, '');
    this.#token = opts.token;
    this.#timeoutMs = opts.timeoutMs;
  }

  submit(body: SubmitCode): Promise<Task> {
    return this.#request('POST', '/api/v1/tasks', Task, body);
  }

  get(id: string): Promise<Task> {
    return this.#request('GET', `/api/v1/tasks/${encodeURIComponent(id)}`, Task);
  }

  list(query: TaskListQuery = {}): Promise<TaskPage> {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined) params.set(key, String(value));
    }
    const qs = params.size > 0 ? `?${params}` : '';
    return this.#request('GET', `/api/v1/tasks${qs}`, TaskPage);
  }

  cancel(id: string): Promise<Task> {
    return this.#request('POST', `/api/v1/tasks/${encodeURIComponent(id)}/cancel`, Task);
  }

  extensions(): Promise<ExtensionInfo[]> {
    return this.#request('GET', '/api/v1/extensions', ExtensionList);
  }

  /** Admin: issues (or rotates) the host secret of an extension id; the answer is the only copy. */
  issueHostSecret(id: string): Promise<HostSecretIssued> {
    return this.#request('POST', `/api/v1/hosts/${encodeURIComponent(id)}/secret`, HostSecretIssued);
  }

  /** Admin: forgets the host secret of an extension id. */
  forgetHostSecret(id: string): Promise<HostSecretForgotten> {
    return this.#request('DELETE', `/api/v1/hosts/${encodeURIComponent(id)}/secret`, HostSecretForgotten);
  }

  async #request<T>(method: string, path: string, schema: z.ZodType<T>, body?: unknown): Promise<T> {
    const what = `${method} ${this.#base}${path}`;
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.#token}`,
      accept: 'application/json',
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    let payload: unknown;
    try {
      res = await fetch(this.#base + path, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      payload = await readJson(res);
    } catch (err) {
      throw toSwitchboardError(err, what);
    }
    if (!res.ok) throw errorFromHttp(res.status, payload);
    const parsed = schema.safeParse(payload);
    if (!parsed.success) {
      throw new SwitchboardError('bad_response', `${what}: the answer does not match the contract.`, {
        status: res.status,
        details: parsed.error.issues,
      });
    }
    return parsed.data;
  }
}

/** The body as JSON, or its text when it is not JSON (error pages from proxies), or null when empty. */
async function readJson(res: Response): Promise<unknown> {
  const text = await res.text();
  if (text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

import { z } from 'zod';
import {
  ExtensionInfo,
  ExtensionLogs,
  HostSecretForgotten,
  HostSecretIssued,
  type SubmitCode,
  Task,
  type TaskListQuery,
  TaskPage,
} from '../../server/protocol/index.js';
import { PluginInfo, type PluginTaskRequest, TaskCreated, ToolInfo } from '../../server/protocol/plugins.js';
import { errorFromHttp, SwitchboardError, toSwitchboardError } from './errors.js';

export interface HttpApiOptions {
  /** Hub base URL, e.g. `http://127.0.0.1:4000`. */
  url: string;
  token: string;
  /** Per-request deadline. */
  timeoutMs: number;
}

const ExtensionList = z.array(ExtensionInfo);
const ToolList = z.array(ToolInfo);
const PluginList = z.array(PluginInfo);

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

  /** Any other route of the hub (the compatibility APIs), with the same token, deadline and checks. */
  request<T>(method: string, path: string, schema: z.ZodType<T>, body?: unknown): Promise<T> {
    return this.#request(method, path, schema, body);
  }

  /** Plugin tool types and the plugins serving each (`GET /api/v1/tools`). */
  tools(): Promise<z.infer<typeof ToolInfo>[]> {
    return this.#request('GET', '/api/v1/tools', ToolList);
  }

  plugins(): Promise<PluginInfo[]> {
    return this.#request('GET', '/api/v1/plugins', PluginList);
  }

  /** Creates and starts a plugin task with a plugin-service body; its id is `task_id`. */
  createPluginTask(body: PluginTaskRequest): Promise<z.infer<typeof TaskCreated>> {
    return this.#request('POST', '/api/v1/tasks', TaskCreated, body);
  }

  /** The bytes of a plugin output (`output_resources[].url`, a path on the hub or a full URL). */
  async download(url: string): Promise<Uint8Array> {
    const full = /^https?:/.test(url) ? url : this.#base + url;
    let res: Response;
    try {
      res = await fetch(full, {
        headers: { authorization: `Bearer ${this.#token}` },
        signal: AbortSignal.timeout(this.#timeoutMs * 6),
      });
      if (!res.ok) throw errorFromHttp(res.status, await readJson(res));
      return new Uint8Array(await res.arrayBuffer());
    } catch (err) {
      throw toSwitchboardError(err, `GET ${full}`);
    }
  }

  /** An extension's kept host log lines after `afterSeq` (Kit's log, when its bridge forwards it). */
  extensionLogs(id: string, afterSeq = 0): Promise<ExtensionLogs> {
    const path = `/api/v1/extensions/${encodeURIComponent(id)}/logs?afterSeq=${afterSeq}`;
    return this.#request('GET', path, ExtensionLogs);
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

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
import { SwitchboardError } from '../core/errors.js';
import { hubDownloadFailover, hubRequestFailover } from '../core/http.js';
import { HubRotation, parseHubUrls } from '../core/hubs.js';

export interface HttpApiOptions {
  /**
   * Hub base URL, e.g. `http://127.0.0.1:4000`, or several (processes of one scaled-out hub): each request
   * goes to the one that answered last and moves on to the next when it cannot be reached.
   */
  url: string | readonly string[];
  token: string;
  /** Per-request deadline. */
  timeoutMs: number;
}

const ExtensionList = z.array(ExtensionInfo);
const ToolList = z.array(ToolInfo);
const PluginList = z.array(PluginInfo);

/** The hub's native HTTP API (`/api/v1`) with the bearer token; every answer is checked against the contract. */
export class HttpApi {
  readonly #hubs: HubRotation;
  readonly #token: string;
  readonly #timeoutMs: number;

  constructor(opts: HttpApiOptions) {
    this.#hubs = new HubRotation(parseHubUrls(opts.url));
    this.#token = opts.token;
    this.#timeoutMs = opts.timeoutMs;
  }

  /** The hub requests go to first (the one that answered last). */
  get url(): string {
    return this.#hubs.current;
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
  download(url: string): Promise<Uint8Array> {
    return hubDownloadFailover(this.#hubs, { token: this.#token, timeoutMs: this.#timeoutMs * 6 }, url);
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
    const opts = { token: this.#token, timeoutMs: this.#timeoutMs };
    const answer = await hubRequestFailover(this.#hubs, opts, method, path, body);
    const parsed = schema.safeParse(answer.body);
    if (!parsed.success) {
      throw new SwitchboardError(
        'bad_response',
        `${method} ${this.#hubs.current}${path}: the answer does not match the contract.`,
        {
          status: answer.status,
          details: parsed.error.issues,
        },
      );
    }
    return parsed.data;
  }
}

import { FlowReport, FlowValidateOutput } from '../../server/protocol/flowgram.js';
import {
  type ExtensionInfo,
  isTerminal,
  type StartWorkflow,
  type SubmitCode,
  Task,
  type TaskListQuery,
  type TaskPage,
  type WorkflowInfo,
} from '../../server/protocol/index.js';
import type { PluginInfo, ResourceInput } from '../../server/protocol/plugins.js';
import { SwitchboardError } from '../core/errors.js';
import { parseHubUrls } from '../core/hubs.js';
import { MonitorConnection, type MonitorSocket, type SocketTuning } from './connection.js';
import { FlowgramApi, type FlowInputs, type FlowSchema, type FlowValidation } from './flowgram.js';
import { type FollowOptions, TaskStream } from './follow.js';
import { type FlowUpdate, followFlow } from './follow-flow.js';
import { HttpApi } from './http.js';

export interface SwitchboardClientOptions {
  /**
   * Hub base URL, e.g. `http://127.0.0.1:4000`, or several: the processes of one scaled-out hub (sharing
   * Redis). The socket connects to the first that answers and moves to the next when it loses it (at once,
   * then with backoff and jitter once every hub has failed); a followed task resumes from its last seq on
   * whichever hub it reaches. HTTP requests move to the next hub when one cannot be reached (a POST only
   * when it provably never reached the hub).
   */
  url: string | readonly string[];
  /** Bearer token (admin, operator or viewer). */
  token: string;
  /** Deadline for each request, over either transport. Default 10 s. */
  requestTimeoutMs?: number;
  /** Socket.IO reconnection settings. */
  socket?: SocketTuning;
}

export type WaitForOptions = Omit<FollowOptions, 'afterSeq'>;

/** One plugin tool call: the tool type (`text2image`), optionally the plugin, its parameters and resources. */
export interface RunTool {
  tool: string;
  plugin?: string;
  parameters?: Record<string, unknown>;
  resources?: ResourceInput[];
  /** Seconds; default the plugin's task timeout. */
  timeout?: number;
}

/**
 * Typed client of a Switchboard hub. Requests travel over the `/monitor` socket while it is connected and
 * over HTTP otherwise, so a script that never calls `connect()` needs no socket at all; following a task
 * needs the socket and dials it on demand.
 */
export class SwitchboardClient {
  /** Every hub URL given, in order. */
  readonly urls: readonly string[];
  /** The HTTP API on its own, for callers that want it whatever the socket's state. */
  readonly http: HttpApi;
  /** The FlowGram runtime API (`/api/task/*`): run, validate, report, result, cancel by FlowGram task id. */
  readonly flowgram: FlowgramApi;
  readonly #token: string;
  readonly #timeoutMs: number;
  readonly #tuning: SocketTuning | undefined;
  readonly #streams = new Set<TaskStream>();
  #conn: MonitorConnection | undefined;

  constructor(opts: SwitchboardClientOptions) {
    this.urls = parseHubUrls(opts.url);
    this.#token = opts.token;
    this.#timeoutMs = opts.requestTimeoutMs ?? 10_000;
    this.#tuning = opts.socket;
    this.http = new HttpApi({ url: this.urls, token: this.#token, timeoutMs: this.#timeoutMs });
    this.flowgram = new FlowgramApi(this.http);
  }

  /** The hub in use: the socket's while it is connected, else the one HTTP requests go to first. */
  get url(): string {
    return this.#conn?.connected ? this.#conn.url : this.http.url;
  }

  /** True while the socket is up; requests then use it instead of HTTP. */
  get connected(): boolean {
    return this.#conn?.connected ?? false;
  }

  /** The underlying socket, once `connect()` or `follow()` has created it. */
  get socket(): MonitorSocket | undefined {
    return this.#conn?.socket;
  }

  /** Opens the `/monitor` socket; rejects with a SwitchboardError if the hub refuses or cannot be reached. */
  connect(): Promise<void> {
    return this.#connection().ready;
  }

  /** Closes the socket. Open follow() iterators fail with `client_closed` after their buffered events. */
  async close(): Promise<void> {
    const closing = new SwitchboardError('client_closed', 'The client was closed.');
    for (const stream of [...this.#streams]) stream.fail(closing);
    this.#conn?.close();
    this.#conn = undefined;
  }

  submit(body: SubmitCode): Promise<Task> {
    return this.#either(
      (c) => c.call('task:submit', (s) => s.emitWithAck('task:submit', body)),
      () => this.http.submit(body),
    );
  }

  get(taskId: string): Promise<Task> {
    return this.#either(
      (c) => c.call('task:get', (s) => s.emitWithAck('task:get', { taskId })),
      () => this.http.get(taskId),
    );
  }

  list(query: TaskListQuery = {}): Promise<TaskPage> {
    return this.#either(
      (c) => c.call('task:list', (s) => s.emitWithAck('task:list', query)),
      () => this.http.list(query),
    );
  }

  cancel(taskId: string): Promise<Task> {
    return this.#either(
      (c) => c.call('task:cancel', (s) => s.emitWithAck('task:cancel', { taskId })),
      () => this.http.cancel(taskId),
    );
  }

  extensions(): Promise<ExtensionInfo[]> {
    return this.#either(
      (c) => c.call('extensions:list', (s) => s.emitWithAck('extensions:list', {})),
      () => this.http.extensions(),
    );
  }

  /** Plugin tool types and the plugins serving each. */
  tools(): ReturnType<HttpApi['tools']> {
    return this.http.tools();
  }

  plugins(): Promise<PluginInfo[]> {
    return this.http.plugins();
  }

  /** Starts a plugin tool call as a task (kind `plugin`); follow it with `follow(task.id)`. */
  async runTool(req: RunTool): Promise<Task> {
    const created = await this.http.createPluginTask({
      tool_name: req.tool,
      ...(req.plugin ? { plugin_name: req.plugin } : {}),
      parameters: req.parameters ?? {},
      ...(req.resources ? { resources: req.resources } : {}),
      ...(req.timeout ? { timeout: req.timeout } : {}),
    });
    return this.get(created.task_id);
  }

  /** The bytes of a plugin task's output file (`result.output_resources[].url`). */
  download(url: string): Promise<Uint8Array> {
    return this.http.download(url);
  }

  /** Workflows the hub can run, with their input schemas. */
  async workflows(): Promise<WorkflowInfo[]> {
    const conn = this.#connection();
    await conn.ready;
    return conn.call('workflows:list', (s) => s.emitWithAck('workflows:list', {}));
  }

  /** Starts a workflow run (over the socket); follow it with `follow(task.id)`. */
  async startWorkflow(request: StartWorkflow): Promise<Task> {
    const conn = this.#connection();
    await conn.ready;
    return conn.call('workflow:start', (s) => s.emitWithAck('workflow:start', request));
  }

  /** Starts a FlowGram schema (object or JSON text) as a `flowgram` task; follow it with `followFlow`. */
  runFlow(schema: FlowSchema, inputs: FlowInputs = {}): Promise<Task> {
    return this.http.request('POST', '/api/v1/flowgram/runs', Task, { schema, inputs });
  }

  /** Checks a FlowGram schema (and inputs against its start node) without running it: `{valid, errors}`. */
  validateFlow(schema: FlowSchema, inputs: FlowInputs = {}): Promise<FlowValidation> {
    return this.http.request('POST', '/api/v1/flowgram/validate', FlowValidateOutput, { schema, inputs });
  }

  /** The FlowGram report of a flowgram task: inputs, outputs, workflowStatus, per-node reports and snapshots. */
  flowReport(taskId: string): Promise<FlowReport> {
    return this.http.request('GET', `/api/v1/flowgram/runs/${encodeURIComponent(taskId)}/report`, FlowReport);
  }

  /**
   * Follows a flowgram task like `follow`, folding node events into a progress list (waiting, running,
   * succeeded, failed; runs per node, i.e. loop iterations; durations) that each update carries.
   */
  async *followFlow(taskId: string, opts: FollowOptions = {}): AsyncGenerator<FlowUpdate> {
    const task = await this.get(taskId);
    yield* followFlow(task, (o) => this.follow(taskId, o), opts);
  }

  /**
   * Follows a task's events from `afterSeq` (default 0: the whole stream), replay then live, across
   * reconnects, until its terminal status event. Dials the socket if needed.
   */
  follow(taskId: string, opts: FollowOptions = {}): TaskStream {
    const stream = new TaskStream(this.#connection(), taskId, opts, this.#onStreamSettled);
    this.#streams.add(stream);
    stream.start();
    return stream;
  }

  /**
   * Resolves with the task once it has finished, however it finished. Pass `signal` (e.g.
   * `AbortSignal.timeout(ms)`) to stop waiting; the promise then rejects with the signal's reason.
   */
  async waitFor(taskId: string, opts: WaitForOptions = {}): Promise<Task> {
    const task = await this.get(taskId);
    if (isTerminal(task.status)) return task;
    const stream = this.follow(taskId, { ...opts, afterSeq: task.lastSeq });
    for await (const _event of stream) {
      // Drain: the stream ends after the terminal status event.
    }
    // An aborted wait has no final task to give: reject with the signal's reason, as fetch does.
    opts.signal?.throwIfAborted();
    return this.get(taskId);
  }

  #connection(): MonitorConnection {
    if (this.#conn) return this.#conn;
    const conn = new MonitorConnection({
      urls: this.urls,
      token: this.#token,
      timeoutMs: this.#timeoutMs,
      ...(this.#tuning ? { tuning: this.#tuning } : {}),
      onFatal: (err) => {
        if (this.#conn === conn) this.#conn = undefined;
        for (const stream of [...this.#streams]) stream.fail(err);
      },
    });
    this.#conn = conn;
    return conn;
  }

  #either<T>(viaSocket: (conn: MonitorConnection) => Promise<T>, viaHttp: () => Promise<T>): Promise<T> {
    const conn = this.#conn;
    return conn?.connected ? viaSocket(conn) : viaHttp();
  }

  #onStreamSettled = (stream: TaskStream): void => {
    this.#streams.delete(stream);
    const conn = this.#conn;
    if (!conn?.connected) return;
    // The socket shares one room per task: leave it only when no other stream still follows the task.
    for (const other of this.#streams) if (other.taskId === stream.taskId) return;
    void conn
      .call('task:unsubscribe', (s) => s.emitWithAck('task:unsubscribe', { taskId: stream.taskId }))
      .catch(() => {});
  };
}

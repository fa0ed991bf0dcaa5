import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { CallToolResult, Tool as McpTool, Progress } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../log.js';
import { HUB_VERSION } from '../protocol/index.js';
import type { PluginSpec } from './manifest.js';
import { tapProgress } from './progress-tap.js';
import { loadSdk, type McpSdk } from './sdk.js';
import type { ExitInfo, PluginStdioTransport } from './stdio-transport.js';

export type PluginState = 'stopped' | 'starting' | 'ready' | 'backoff' | 'failed';

export interface PluginLog {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
}

/** Why a plugin could not serve a call: it never started, or it died under it. */
export class PluginDown extends Error {
  constructor(
    message: string,
    readonly kind: 'start_failed' | 'died',
  ) {
    super(message);
    this.name = 'PluginDown';
  }
}

const BACKOFF_MS = [500, 1000, 2000, 5000, 10_000, 30_000];
/** Consecutive failed starts after which the plugin waits for a caller instead of retrying on its own. */
const MAX_AUTO_RESTARTS = BACKOFF_MS.length;
const PING_TIMEOUT_MS = 10_000;

function logLevel(level: string): PluginLog['level'] {
  if (level === 'debug') return 'debug';
  if (level === 'info' || level === 'notice') return 'info';
  if (level === 'warning') return 'warn';
  return 'error';
}

/**
 * One plugin's MCP server: its process (or URL session), lifecycle and health. Started lazily or eagerly;
 * pinged; restarted with backoff when it dies; in-flight calls are rejected with the reason it died.
 */
export class PluginSession {
  state: PluginState = 'stopped';
  lastError: string | null = null;
  restarts = 0;
  startedAt: number | null = null;
  tools: McpTool[] = [];
  private client: Client | undefined;
  private transport: Transport | undefined;
  /** The same object as `transport` when the plugin runs over stdio: its pid and exit. */
  private stdio: PluginStdioTransport | undefined;
  private starting: Promise<Client> | undefined;
  private failures = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private healthTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private progressSeq = 0;
  private readonly progressHandlers = new Map<string, (p: Progress) => void>();
  /** Set before a deliberate close so the close is not taken for a crash. */
  private stopping = false;

  constructor(
    readonly spec: PluginSpec,
    private readonly logger: Logger,
    private readonly hooks: {
      onLog: (log: PluginLog) => void;
    },
  ) {}

  get pid(): number | null {
    return this.stdio?.pid ?? null;
  }

  /** The connected client, starting the plugin first when it is not running. */
  ensure(): Promise<Client> {
    if (this.closed)
      return Promise.reject(new PluginDown(`plugin ${this.spec.name} is shut down`, 'start_failed'));
    if (this.state === 'ready' && this.client) return Promise.resolve(this.client);
    if (this.starting) return this.starting;
    clearTimeout(this.restartTimer);
    this.starting = this.connect().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  async callTool(
    name: string,
    args: Record<string, unknown>,
    opts: { signal: AbortSignal; onprogress: (p: Progress) => void; timeoutMs: number },
  ): Promise<CallToolResult> {
    const client = await this.ensure();
    const token = `sb-${++this.progressSeq}`;
    this.progressHandlers.set(token, opts.onprogress);
    try {
      const result = await client.callTool(
        { name, arguments: args, _meta: { progressToken: token } },
        undefined,
        {
          signal: opts.signal,
          // The task's own timer ends the task; this only stops the SDK from giving up first.
          timeout: opts.timeoutMs + 60_000,
        },
      );
      return result as CallToolResult;
    } catch (err) {
      if (opts.signal.aborted) throw err;
      const died = this.deathMessage();
      if (died) throw new PluginDown(`${died} during the call`, 'died');
      throw err;
    } finally {
      this.progressHandlers.delete(token);
    }
  }

  async ping(): Promise<void> {
    const client = await this.ensure();
    await client.ping({ timeout: PING_TIMEOUT_MS });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.restartTimer);
    clearInterval(this.healthTimer);
    await this.starting?.catch(() => {});
    await this.disconnect();
    this.state = 'stopped';
  }

  private async connect(): Promise<Client> {
    const { spec } = this;
    this.state = 'starting';
    let sdk: McpSdk;
    try {
      sdk = await loadSdk();
    } catch (err) {
      this.state = 'failed';
      throw new PluginDown(`the MCP SDK could not be loaded: ${(err as Error).message}`, 'start_failed');
    }
    const transport = this.makeTransport(sdk);
    const client = new sdk.Client({ name: 'switchboard', version: HUB_VERSION }, { capabilities: {} });
    client.setNotificationHandler(sdk.LoggingMessageNotificationSchema, (n) => {
      const data = n.params.data;
      const text = typeof data === 'string' ? data : JSON.stringify(data);
      this.hooks.onLog({
        level: logLevel(n.params.level),
        message: n.params.logger ? `${n.params.logger}: ${text}` : text,
      });
    });
    this.transport = transport;
    this.client = client;
    this.stopping = false;
    const timeoutMs = spec.startup_timeout * 1000;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        (async () => {
          await client.connect(transport, { timeout: timeoutMs });
          tapProgress(transport, this.progressHandlers);
          const listed = await client.listTools(undefined, { timeout: timeoutMs });
          this.tools = listed.tools;
        })(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`did not answer within its startup timeout of ${spec.startup_timeout}s`)),
            timeoutMs,
          );
        }),
      ]);
    } catch (err) {
      clearTimeout(timer);
      const died = this.deathMessage();
      await this.disconnect();
      const message = died ?? `plugin ${spec.name} failed to start: ${(err as Error).message}`;
      this.onStartFailed(message);
      throw new PluginDown(message, 'start_failed');
    }
    clearTimeout(timer);
    // Chained after the SDK's own handler, which rejects the calls in flight first.
    const sdkOnClose = transport.onclose;
    transport.onclose = () => {
      sdkOnClose?.();
      this.onUnexpectedClose(transport);
    };
    if (this.startedAt !== null) this.restarts += 1;
    this.state = 'ready';
    this.lastError = null;
    this.startedAt = Date.now();
    this.failures = 0;
    this.logger.info({ plugin: spec.name, pid: this.pid, tools: this.tools.length }, 'plugin started');
    this.startHealthChecks();
    return client;
  }

  private makeTransport(sdk: McpSdk): Transport {
    const { spec } = this;
    this.stdio = undefined;
    if (spec.url) {
      return new sdk.StreamableHTTPClientTransport(new URL(spec.url), {
        requestInit: { headers: spec.headers },
      });
    }
    // `node` means the hub's own Node, so a plugin written in TypeScript runs with the project's tsx.
    const command = spec.command === 'node' ? process.execPath : (spec.command as string);
    const log = this.logger.child({ plugin: spec.name });
    this.stdio = new sdk.PluginStdioTransport({
      command,
      args: spec.args,
      env: spec.env,
      cwd: path.resolve(spec.dir, spec.cwd ?? '.'),
      onStderr: (line) => log.debug({ stderr: line }, 'plugin stderr'),
      onGarbage: (preview) => log.warn({ preview }, 'plugin wrote a line that is not JSON-RPC; skipped'),
    });
    return this.stdio;
  }

  /** "plugin X exited with code 3: <stderr>" when the process is gone, else null. */
  private deathMessage(): string | null {
    const exit: ExitInfo | null = this.stdio?.exit ?? null;
    if (!exit) return null;
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
    const last = exit.stderrTail.split('\n').filter(Boolean).slice(-3).join(' | ');
    return `plugin ${this.spec.name} ${how}${last ? `: ${last}` : ''}`;
  }

  private onUnexpectedClose(transport: Transport): void {
    if (this.stopping || transport !== this.transport || this.closed) return;
    const message = this.deathMessage() ?? `plugin ${this.spec.name} closed its connection`;
    this.logger.warn({ plugin: this.spec.name }, message);
    this.lastError = message;
    clearInterval(this.healthTimer);
    this.state = 'backoff';
    this.client = undefined;
    this.scheduleRestart();
  }

  private onStartFailed(message: string): void {
    this.lastError = message;
    this.failures += 1;
    this.logger.warn({ plugin: this.spec.name, failures: this.failures }, message);
    if (this.failures >= MAX_AUTO_RESTARTS) {
      // Stop retrying on its own; the next call tries again (the cause may have been fixed).
      this.state = 'failed';
      return;
    }
    this.state = 'backoff';
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    if (this.closed) return;
    clearTimeout(this.restartTimer);
    const delay = BACKOFF_MS[Math.min(this.failures, BACKOFF_MS.length - 1)] ?? 30_000;
    this.restartTimer = setTimeout(() => {
      this.ensure().catch(() => {});
    }, delay);
    this.restartTimer.unref();
  }

  private startHealthChecks(): void {
    clearInterval(this.healthTimer);
    if (!this.spec.health_interval) return;
    this.healthTimer = setInterval(() => {
      const client = this.client;
      if (this.state !== 'ready' || !client) return;
      // A ping must answer within the check period (at most 10 s), or the process counts as wedged.
      const timeout = Math.min(PING_TIMEOUT_MS, Math.max(1000, this.spec.health_interval * 1000));
      client.ping({ timeout }).catch(async (err: unknown) => {
        if (client !== this.client) return;
        this.logger.warn(
          { plugin: this.spec.name, err: (err as Error).message },
          'plugin failed its health check',
        );
        this.lastError = `plugin ${this.spec.name} failed its health check: ${(err as Error).message}`;
        await this.disconnect();
        this.state = 'backoff';
        this.scheduleRestart();
      });
    }, this.spec.health_interval * 1000);
    this.healthTimer.unref();
  }

  private async disconnect(): Promise<void> {
    const client = this.client;
    const transport = this.transport;
    this.stopping = true;
    this.client = undefined;
    clearInterval(this.healthTimer);
    try {
      if (client) await client.close();
      else await transport?.close();
    } catch {
      // Already gone.
    }
  }
}

import { type ChildProcess, spawn } from 'node:child_process';
import { ReadBuffer, serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

/** Variables a plugin inherits from the hub: enough to run, never the hub's own secrets. */
const INHERITED_ENV = ['HOME', 'LOGNAME', 'PATH', 'SHELL', 'TERM', 'USER', 'LANG', 'TMPDIR', 'NODE_PATH'];

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last lines the process wrote to stderr: usually why it died. */
  stderrTail: string;
}

export interface StdioParams {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  /** Each stderr line, for the hub's log. */
  onStderr?: (line: string) => void;
  /** A stdout line that is not JSON-RPC: logged and skipped, the session carries on. */
  onGarbage?: (preview: string) => void;
}

const STDERR_TAIL_LINES = 20;

/**
 * MCP over a child's stdio, like the SDK's StdioClientTransport, but it keeps what the hub needs to explain a
 * death (exit code, signal, stderr tail) and survives non-JSON lines on stdout instead of giving up.
 */
export class PluginStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  exit: ExitInfo | null = null;
  private child: ChildProcess | undefined;
  private readonly buffer = new ReadBuffer();
  private readonly stderrLines: string[] = [];
  private stderrPartial = '';

  constructor(private readonly params: StdioParams) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): Promise<void> {
    const env: Record<string, string> = {};
    for (const k of INHERITED_ENV) {
      const v = process.env[k];
      if (v !== undefined) env[k] = v;
    }
    Object.assign(env, this.params.env);
    return new Promise((resolve, reject) => {
      const child = spawn(this.params.command, this.params.args, {
        cwd: this.params.cwd,
        env,
        stdio: ['pipe', 'pipe', 'pipe'],
        shell: false,
      });
      this.child = child;
      child.once('error', (err) => {
        reject(err);
        this.onerror?.(err);
      });
      child.once('spawn', () => resolve());
      child.once('close', (code, signal) => {
        this.flushStderr();
        this.exit = { code, signal, stderrTail: this.stderrLines.join('\n') };
        this.child = undefined;
        this.onclose?.();
      });
      child.stdin?.on('error', (err) => this.onerror?.(err));
      child.stdout?.on('data', (chunk: Buffer) => this.read(chunk));
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (text: string) => this.readStderr(text));
    });
  }

  async send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.child?.stdin;
    if (!stdin || stdin.destroyed) throw new Error('the plugin process is not running');
    await new Promise<void>((resolve, reject) => {
      stdin.write(serializeMessage(message), (err) => (err ? reject(err) : resolve()));
    });
  }

  /** Ends stdin, then SIGTERM, then SIGKILL: a well-behaved server exits on EOF. */
  async close(): Promise<void> {
    const child = this.child;
    if (!child) return;
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    const wait = (ms: number) => Promise.race([closed, new Promise<void>((r) => setTimeout(r, ms).unref())]);
    child.stdin?.end();
    await wait(2000);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await wait(2000);
    }
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await wait(2000);
  }

  private read(chunk: Buffer): void {
    try {
      this.buffer.append(chunk);
    } catch (err) {
      this.onerror?.(err as Error);
      return;
    }
    for (;;) {
      let message: JSONRPCMessage | null;
      try {
        message = this.buffer.readMessage();
      } catch (err) {
        this.params.onGarbage?.((err as Error).message.slice(0, 200));
        continue;
      }
      if (message === null) break;
      this.onmessage?.(message);
    }
  }

  private readStderr(text: string): void {
    const lines = (this.stderrPartial + text).split('\n');
    this.stderrPartial = lines.pop() ?? '';
    for (const line of lines) this.keepStderr(line);
  }

  private flushStderr(): void {
    if (this.stderrPartial) this.keepStderr(this.stderrPartial);
    this.stderrPartial = '';
  }

  private keepStderr(line: string): void {
    const trimmed = line.replace(/\r$/, '');
    if (!trimmed) return;
    this.params.onStderr?.(trimmed);
    this.stderrLines.push(trimmed.slice(0, 500));
    if (this.stderrLines.length > STDERR_TAIL_LINES) this.stderrLines.shift();
  }
}

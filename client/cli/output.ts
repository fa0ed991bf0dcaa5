import { isTerminal, type Task, type TaskEvent, type TaskStatus } from '../../server/protocol/index.js';
import { SwitchboardError } from '../core/errors.js';
import { UsageError } from './args.js';
import { Spinner } from './spinner.js';

/** Where the CLI writes: process.stdout/stderr in real use. */
export interface Sink {
  write(text: string): unknown;
  isTTY?: boolean | undefined;
}

type Colour = 'green' | 'red' | 'dim' | 'yellow' | 'cyan' | 'bold';
const SGR: Record<Colour, string> = { green: '32', red: '31', dim: '2', yellow: '33', cyan: '36', bold: '1' };

/** The colour of each task status in lists and `top`. */
export const STATUS_COLOUR: Record<TaskStatus, Colour> = {
  queued: 'dim',
  dispatched: 'cyan',
  running: 'cyan',
  succeeded: 'green',
  failed: 'red',
  cancelled: 'yellow',
  timed_out: 'red',
};

/** A stream that remembers whether it is at the start of a line, so notes never glue onto raw output. */
class Lines {
  #atLineStart = true;
  constructor(readonly sink: Sink) {}

  raw(text: string): void {
    if (text === '') return;
    this.sink.write(text);
    this.#atLineStart = text.endsWith('\n');
  }

  line(text: string): void {
    if (!this.#atLineStart) this.sink.write('\n');
    this.sink.write(text + '\n');
    this.#atLineStart = true;
  }
}

/**
 * Everything the CLI prints. Human mode: task output raw on stdout/stderr, notes on stderr, colour only on a
 * terminal without NO_COLOR. JSON mode: NDJSON on stdout, one object per line.
 */
export class Output {
  readonly json: boolean;
  readonly #out: Lines;
  readonly #err: Lines;
  readonly #colour: boolean;
  readonly #spinner: Spinner;

  constructor(opts: { stdout: Sink; stderr: Sink; json: boolean; env: NodeJS.ProcessEnv }) {
    this.json = opts.json;
    this.#out = new Lines(opts.stdout);
    this.#err = new Lines(opts.stderr);
    this.#colour = Boolean(opts.stdout.isTTY) && !opts.env['NO_COLOR'];
    this.#spinner = new Spinner(opts.stderr);
  }

  /** One NDJSON record. */
  record(value: object): void {
    this.#out.line(JSON.stringify(value));
  }

  /** A line of human output on stdout (tables, ids). */
  print(text: string): void {
    this.#out.line(text);
  }

  /** A human note on stderr; silent in JSON mode so stdout stays parseable and stderr quiet. */
  note(text: string): void {
    if (!this.json) this.#err.line(this.paint('dim', text));
  }

  /** A progress line on stderr, already coloured by the caller (flow nodes); silent in JSON mode. */
  step(text: string): void {
    if (this.json) return;
    this.#spinner.clear();
    this.#err.line(text);
  }

  paint(colour: Colour, text: string): string {
    return this.#colour ? `\x1b[${SGR[colour]}m${text}\x1b[0m` : text;
  }

  /**
   * A Python traceback for a terminal: frames at full contrast with the file locations dimmed so the code
   * lines stand out, and the exception line in bold red. Plain text when colour is off.
   */
  traceback(text: string): string {
    const lines = text.trimEnd().split('\n');
    const last = lines.length - 1;
    return lines
      .map((line, i) => {
        if (i === last) return this.paint('red', this.paint('bold', line));
        if (/^\s*File "/.test(line)) return this.paint('dim', line);
        return line;
      })
      .join('\n');
  }

  /** Whether stdout gets colour (a terminal, and no NO_COLOR). */
  get colour(): boolean {
    return this.#colour;
  }

  /** One task event as it arrives. */
  event(event: TaskEvent): void {
    if (this.json) {
      this.record(event);
      return;
    }
    this.#spinner.clear();
    if (event.type === 'status' && (event.data.status === 'queued' || event.data.status === 'dispatched')) {
      // On a terminal, a spinner stands in for the status line while the task waits.
      const where = event.data.extensionId ? ` to ${event.data.extensionId}` : '';
      if (this.#err.sink.isTTY) {
        this.#spinner.start(this.paint('dim', `${event.data.status}${where}`));
        return;
      }
    }
    if (event.type === 'output') {
      (event.data.stream === 'stdout' ? this.#out : this.#err).raw(event.data.text);
    } else if (event.type === 'token') {
      this.#out.raw(event.data.text);
    } else if (event.type === 'error' && event.data.traceback) {
      // Full contrast, not a dim note: this is what the user reads to fix the code.
      this.#err.line(this.traceback(event.data.traceback));
    } else {
      const note = noteFor(event);
      if (note) this.#err.line(this.paint('dim', note));
    }
  }

  /** The task as it ended: its result (when not null) and a one-line verdict. */
  outcome(task: Task): void {
    this.#spinner.clear();
    if (this.json) {
      this.record({ type: 'task', ...task });
      return;
    }
    if (task.result !== null && task.result !== undefined)
      this.#out.line(JSON.stringify(task.result, null, 2));
    if (task.status === 'succeeded') {
      const took = duration(task.startedAt ?? task.createdAt, task.endedAt);
      this.#err.line(this.paint('green', `✔ succeeded${took ? ` in ${took}` : ''}`));
    } else {
      const why = task.error?.message ?? task.status;
      this.#err.line(this.paint('red', `✖ ${task.status}: ${why}`));
    }
  }

  /** An error that stopped the command. */
  error(err: unknown, command: string | undefined): void {
    const e = err instanceof Error ? err : new Error(String(err));
    if (this.json && !(e instanceof UsageError)) {
      const body =
        e instanceof SwitchboardError ? { code: e.code, message: e.message, field: e.field } : e.message;
      this.record({ type: 'error', error: body });
      return;
    }
    const field = e instanceof SwitchboardError && e.field ? ` (field: ${e.field})` : '';
    // The client core's code first (hub_unreachable, request_timeout, ...): the one the SDK and monitor show.
    const code = e instanceof SwitchboardError ? `${e.code}: ` : '';
    this.#err.line(this.paint('red', `error: ${code}${e.message}${field}`));
    const hint = hintFor(e, command);
    if (hint) this.#err.line(hint);
  }
}

/** The stderr line for an event that is not raw output; none for events the final verdict covers. */
function noteFor(event: TaskEvent): string | undefined {
  switch (event.type) {
    case 'status': {
      const { status, extensionId, message } = event.data;
      if (isTerminal(status)) return undefined;
      const where = extensionId ? `${status === 'dispatched' ? ' to' : ' on'} ${extensionId}` : '';
      return `[status] ${status}${where}${message ? ` (${message})` : ''}`;
    }
    case 'error':
      return event.data.traceback?.trimEnd();
    case 'log':
      return `[${event.data.level}] ${event.data.message}`;
    case 'progress': {
      const { fraction, percent, message } = event.data;
      const p = percent ?? (fraction === undefined ? undefined : fraction * 100);
      // A bar for plugin tasks (they report percent); a plain percentage otherwise.
      const bar = percent === undefined ? '' : `${progressBar(percent)} `;
      const pct = p === undefined ? '' : `${bar}${Math.round(p)}% `;
      return `[progress] ${pct}${message ?? ''}`.trimEnd();
    }
    case 'tool_thinking':
      return `[thinking] ${event.data.text}`;
    case 'tool_start':
      return `[tool] ${event.data.name}${toolArgs(event.data.args)}`;
    case 'tool_result': {
      // A call that ran as a child task names it, so `switchboard watch ID` can follow just that part.
      const child = (event.data.result as { taskId?: unknown } | null)?.taskId;
      const ran = typeof child === 'string' ? ` (task ${child})` : '';
      return `[tool] ${event.data.name} ${event.data.isError ? 'failed' : 'done'}${ran}`;
    }
    case 'node_start':
      return `[node] ${event.data.node} started`;
    case 'node_end':
      return `[node] ${event.data.node} done`;
    default:
      return undefined; // output and token are raw; done's result is printed from the final task
  }
}

/** A tool's arguments as JSON, except code (kit_execute's): that reads as Python lines, not an escaped string. */
function toolArgs(args: unknown): string {
  const code = (args as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return ` ${JSON.stringify(args)}`;
  const { code: _code, ...rest } = args as Record<string, unknown>;
  const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
  return `${extra}\n${code.replace(/^/gm, '    ')}`;
}

/** `[#####-----]`: twenty cells, one per 5%. */
function progressBar(percent: number): string {
  const full = Math.max(0, Math.min(20, Math.round(percent / 5)));
  return `[${'#'.repeat(full)}${'-'.repeat(20 - full)}]`;
}

function hintFor(err: Error, command: string | undefined): string | undefined {
  if (err instanceof UsageError) return `Run 'switchboard ${command ? `${command} ` : ''}--help' for usage.`;
  if (!(err instanceof SwitchboardError)) return undefined;
  if (err.code === 'hub_unreachable')
    return 'Is the hub running? Set its address with --hub or SWITCHBOARD_URL.';
  if (err.isAuthError) return 'Check the token given with --token or SWITCHBOARD_TOKEN.';
  return undefined;
}

/** `1.2s`, `2m 03s`; empty when the task has no end time. */
export function duration(from: string | null, to: string | null): string {
  if (!from || !to) return '';
  const ms = Date.parse(to) - Date.parse(from);
  if (!Number.isFinite(ms) || ms < 0) return '';
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
}

import type { TaskEvent } from '../protocol.js';
import { h, replace } from '../ui/dom.js';
import { clockTime, pretty, STATUS_LABEL } from '../ui/format.js';
import { highlightPython } from '../ui/python-highlight.js';
import { outputsView } from './plugin-outputs.js';

type EventOf<T extends TaskEvent['type']> = Extract<TaskEvent, { type: T }>;

const time = (e: TaskEvent) =>
  h('time', { class: 'ev-time mono', datetime: e.ts, title: `seq ${e.seq}` }, clockTime(e.ts));

export function statusRow(e: EventOf<'status'>): HTMLElement {
  const d = e.data;
  const facts = [
    d.reason.replaceAll('_', ' '),
    d.extensionId,
    d.attempt ? `attempt ${d.attempt}` : '',
    d.message,
  ]
    .filter(Boolean)
    .join(' · ');
  return h(
    'div',
    { class: 'ev-row ev-status', 'data-testid': 'ev-status', 'data-status': d.status },
    time(e),
    h('span', { class: `badge status-${d.status}` }, STATUS_LABEL[d.status]),
    h('span', { class: 'muted' }, facts),
  );
}

export function logRow(e: EventOf<'log'>): HTMLElement {
  return h(
    'div',
    { class: `ev-row ev-log level-${e.data.level}`, 'data-testid': 'ev-log' },
    time(e),
    h('span', { class: 'log-level' }, e.data.level),
    h('span', { class: 'log-message' }, e.data.message),
  );
}

/** A traceback with the frames and the exception line told apart. */
export function traceback(text: string): HTMLElement {
  const lines = text.replace(/\n+$/, '').split('\n');
  const last = lines.length - 1;
  return h(
    'pre',
    { class: 'traceback', 'data-testid': 'traceback' },
    lines.map((line, i) =>
      h(
        'span',
        {
          class:
            i === last
              ? 'tb-exc'
              : /^\s*File "/.test(line)
                ? 'tb-file'
                : /^Traceback/.test(line)
                  ? 'tb-head'
                  : '',
        },
        `${line}\n`,
      ),
    ),
  );
}

export function errorRow(e: EventOf<'error'>): HTMLElement {
  return h(
    'div',
    { class: 'ev-error', role: 'alert', 'data-testid': 'ev-error' },
    h(
      'div',
      { class: 'ev-error-head' },
      time(e),
      h('strong', null, e.data.code),
      h('span', null, e.data.message),
    ),
    e.data.field ? h('div', { class: 'muted' }, `field: ${e.data.field}`) : null,
    e.data.traceback ? traceback(e.data.traceback) : null,
  );
}

export function doneRow(e: EventOf<'done'>): HTMLElement {
  const { result, usage, finishReason } = e.data;
  const facts = [
    usage
      ? `${usage.promptTokens} prompt + ${usage.completionTokens} completion = ${usage.totalTokens} tokens`
      : '',
    finishReason ? `finish: ${finishReason}` : '',
  ].filter(Boolean);
  return h(
    'div',
    { class: 'ev-done', 'data-testid': 'ev-done' },
    h(
      'div',
      { class: 'ev-done-head' },
      time(e),
      h('strong', null, 'Result'),
      h('span', { class: 'muted' }, facts.join(' · ')),
    ),
    outputsView(result),
    result === null || result === undefined
      ? h('span', { class: 'muted' }, 'None')
      : h('pre', { class: 'json' }, pretty(result)),
  );
}

/**
 * One tool call: a collapsible row, arguments at once, the result when it comes. A call that ran as a child
 * task (kit_execute's code task) links to it; kit_execute's code shows as Python, not as a JSON string.
 */
export class ToolCallRow {
  readonly el: HTMLDetailsElement;
  readonly name: string;
  /** The child task this call ran as, once known. */
  childId: string | null = null;
  private readonly state: HTMLElement;
  private readonly body: HTMLElement;
  private readonly child: HTMLElement;

  constructor(e: EventOf<'tool_start'> | EventOf<'tool_result'>) {
    this.name = e.data.name;
    this.child = h('span', { class: 'tool-child' });
    this.state = h('span', { class: 'badge status-running' }, 'running');
    this.body = h('div', { class: 'tool-body' });
    this.el = h(
      'details',
      { class: 'tool', 'data-testid': 'tool-call', 'data-call-id': e.data.callId },
      h(
        'summary',
        null,
        time(e),
        h('span', { class: 'tool-icon', 'aria-hidden': 'true' }, 'ƒ'),
        h('strong', { class: 'mono' }, e.data.name),
        this.state,
        this.child,
      ),
      this.body,
    );
    if (e.type === 'tool_start') this.body.append(argsSection(e.data.name, e.data.args));
    else this.result(e);
  }

  /** Shows the link to the child task the call runs as. */
  linkChild(id: string): void {
    if (this.childId === id) return;
    this.childId = id;
    this.el.dataset['childId'] = id;
    replace(
      this.child,
      h(
        'a',
        {
          class: 'task-ref mono',
          href: `#/tasks/${encodeURIComponent(id)}`,
          'data-testid': 'tool-child',
          title: 'Open the child task this call runs as',
        },
        `→ ${id}`,
      ),
    );
  }

  result(e: EventOf<'tool_result'>): void {
    this.state.className = `badge ${e.data.isError ? 'status-failed' : 'status-succeeded'}`;
    this.state.textContent = e.data.isError ? 'error' : 'done';
    this.el.dataset['state'] = e.data.isError ? 'error' : 'done';
    this.body.append(section(e.data.isError ? 'Error' : 'Result', e.data.result));
    if (e.data.isError) this.el.open = true;
    const child = childOf(e.data.result);
    if (child) this.linkChild(child);
  }
}

function childOf(result: unknown): string | null {
  if (typeof result !== 'object' || result === null) return null;
  const id = (result as Record<string, unknown>)['taskId'];
  return typeof id === 'string' ? id : null;
}

/** Arguments as JSON, except code for Kit: that reads as highlighted Python. */
function argsSection(name: string, args: unknown): HTMLElement {
  const code =
    typeof args === 'object' && args !== null ? (args as Record<string, unknown>)['code'] : undefined;
  if (name !== 'kit_execute' || typeof code !== 'string') return section('Arguments', args);
  const { code: _code, ...rest } = args as Record<string, unknown>;
  return h(
    'div',
    { class: 'tool-section' },
    h('div', { class: 'tool-title' }, 'Code'),
    h(
      'pre',
      { class: 'code', 'data-testid': 'tool-code' },
      h('code', { class: 'language-python' }, highlightPython(code)),
    ),
    Object.keys(rest).length > 0 ? section('Other arguments', rest) : null,
  );
}

function section(title: string, value: unknown): HTMLElement {
  return h(
    'div',
    { class: 'tool-section' },
    h('div', { class: 'tool-title' }, title),
    h('pre', { class: 'json' }, pretty(value)),
  );
}

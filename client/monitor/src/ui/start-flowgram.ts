import { SwitchboardError } from '../../../core/errors.js';
import type { Result } from '../net/connection.js';
import { hubHttp } from '../net/hub-http.js';
import type { Task } from '../protocol.js';
import { h, replace } from './dom.js';
import { errorText } from './error-text.js';

interface Validation {
  valid: boolean;
  errors?: string[];
}

/**
 * Start a FlowGram run, as `switchboard flow run SCHEMA --inputs FILE` does: the workflow schema (JSON, as
 * FlowGram's editor exports it) and the start node's inputs (a JSON object). Both are parsed here first (a
 * JSON mistake is named with its line and column), then checked by the hub (`POST /api/v1/flowgram/validate`,
 * each problem naming its node and field) before the run starts (`POST /api/v1/flowgram/runs`). "Check"
 * validates without running.
 */
export class StartFlowgramForm {
  readonly element: HTMLElement;
  private readonly schema: HTMLTextAreaElement;
  private readonly inputs: HTMLTextAreaElement;
  private readonly check: HTMLButtonElement;
  private readonly button: HTMLButtonElement;
  private readonly error: HTMLElement;
  private readonly ok: HTMLElement;

  constructor(private readonly onStarted: (taskId: string) => void) {
    this.schema = h('textarea', {
      id: 'fg-schema',
      class: 'mono',
      rows: 14,
      spellcheck: 'false',
      placeholder: '{"nodes": [...], "edges": [...]}',
      'data-testid': 'flowgram-schema',
      oninput: () => this.clear(),
    });
    this.inputs = h('textarea', {
      id: 'fg-inputs',
      class: 'mono',
      rows: 4,
      spellcheck: 'false',
      placeholder: '{} (the start node’s inputs)',
      'data-testid': 'flowgram-inputs',
      oninput: () => this.clear(),
    });
    this.check = h(
      'button',
      {
        type: 'button',
        class: 'ghost',
        'data-testid': 'flowgram-validate',
        onclick: () => void this.submit(false),
      },
      'Check',
    );
    this.button = h(
      'button',
      { type: 'submit', class: 'primary', 'data-testid': 'flowgram-start' },
      'Run flow',
    );
    this.error = h('div', {
      class: 'form-error',
      role: 'alert',
      'data-testid': 'flowgram-error',
      hidden: true,
    });
    this.ok = h('div', { class: 'muted', role: 'status', 'data-testid': 'flowgram-valid', hidden: true });
    this.element = h(
      'section',
      { class: 'panel new-task-form', 'aria-labelledby': 'fg-title', 'data-testid': 'flowgram-form' },
      h('header', { class: 'panel-head' }, h('h2', { id: 'fg-title' }, 'Run a FlowGram workflow')),
      h(
        'form',
        {
          class: 'form',
          'data-testid': 'new-task-flowgram',
          onsubmit: (e) => {
            e.preventDefault();
            void this.submit(true);
          },
        },
        h('label', { for: 'fg-schema' }, 'Workflow schema (JSON)'),
        this.schema,
        h('label', { for: 'fg-inputs' }, 'Inputs (JSON object)'),
        this.inputs,
        this.error,
        this.ok,
        h('div', { class: 'form-actions' }, this.button, this.check),
      ),
    );
  }

  private clear(): void {
    this.error.hidden = true;
    this.ok.hidden = true;
  }

  private async submit(run: boolean): Promise<void> {
    this.clear();
    const schema = parseObject(this.schema.value, 'schema', 'The schema');
    const inputs =
      this.inputs.value.trim() === '' ? {} : parseObject(this.inputs.value, 'inputs', 'The inputs');
    const bad =
      schema instanceof SwitchboardError ? schema : inputs instanceof SwitchboardError ? inputs : null;
    if (bad) return this.fail(bad);
    this.lock(true);
    try {
      const body = { schema: this.schema.value, inputs };
      const checked = await hubHttp<Validation>('POST', '/api/v1/flowgram/validate', body);
      if (!checked.ok) return this.fail(checked.error);
      if (!checked.data.valid) return this.invalid(checked.data.errors ?? []);
      if (!run) {
        this.ok.hidden = false;
        this.ok.textContent = '✔ The schema and inputs are valid.';
        return;
      }
      const started: Result<Task> = await hubHttp<Task>('POST', '/api/v1/flowgram/runs', body);
      if (!started.ok) return this.fail(started.error);
      this.schema.value = '';
      this.inputs.value = '';
      this.onStarted(started.data.id);
    } finally {
      this.lock(false);
    }
  }

  private lock(on: boolean): void {
    this.button.disabled = on;
    this.check.disabled = on;
  }

  private fail(err: SwitchboardError): void {
    this.error.hidden = false;
    this.error.dataset['code'] = err.code;
    this.error.dataset['field'] = err.field ?? '';
    replace(this.error, errorText(err));
  }

  /** FlowGram's reasons, one per line: each names the node and field at fault. */
  private invalid(errors: string[]): void {
    this.error.hidden = false;
    this.error.dataset['code'] = 'invalid_schema';
    this.error.dataset['field'] = 'schema';
    const n = errors.length;
    replace(
      this.error,
      h('p', null, `The schema is not valid (${n} problem${n === 1 ? '' : 's'}):`),
      h(
        'ul',
        { 'data-testid': 'flowgram-problems' },
        errors.map((e) => h('li', null, e)),
      ),
    );
  }
}

/** The text as a JSON object, or a bad_request error naming the field, the line and the column. */
function parseObject(
  textIn: string,
  field: string,
  what: string,
): Record<string, unknown> | SwitchboardError {
  if (textIn.trim() === '') return new SwitchboardError('bad_request', `${what} is empty.`, { field });
  let value: unknown;
  try {
    value = JSON.parse(textIn);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return new SwitchboardError(
      'bad_request',
      `${what} is not valid JSON${where(textIn, message)}: ${message}`,
      {
        field,
      },
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const kind = Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`;
    return new SwitchboardError('bad_request', `${what} must be a JSON object, not ${kind}.`, { field });
  }
  return value as Record<string, unknown>;
}

/** " at line L, column C" from the parser's "position N", when it gives one. */
function where(textIn: string, message: string): string {
  const m = /position (\d+)/.exec(message);
  if (!m) return '';
  const before = textIn.slice(0, Number(m[1]));
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return ` at line ${line}, column ${column}`;
}

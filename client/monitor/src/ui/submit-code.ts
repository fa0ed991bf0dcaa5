import type { Connection } from '../net/connection.js';
import type { SubmitCode } from '../protocol.js';
import type { ExtensionStore } from '../state/extension-store.js';
import { CodeEditor, marksOf } from './code-editor.js';
import { frameScheduler, h, replace } from './dom.js';
import { submitForm } from './error-text.js';

const SAMPLE =
  'import omni.usd\nstage = omni.usd.get_context().get_stage()\nprint(stage.GetRootLayer().identifier)';

/** Run Python on an extension: code, target (any, one extension, or a label), timeout. */
export class SubmitCodeForm {
  readonly element: HTMLElement;
  private readonly code: CodeEditor;
  private readonly target: HTMLSelectElement;
  private readonly timeout: HTMLInputElement;
  private readonly button: HTMLButtonElement;
  private readonly error: HTMLElement;
  private targetsKey = '';

  constructor(
    private readonly conn: Connection,
    private readonly extensions: ExtensionStore,
    private readonly onStarted: (taskId: string) => void,
  ) {
    this.code = new CodeEditor({
      id: 'submit-code',
      rows: 16,
      placeholder: SAMPLE,
      testId: 'submit-code',
      onRun: () => void this.submit(),
    });
    this.target = h('select', { id: 'submit-target', 'data-testid': 'submit-target' });
    this.timeout = h('input', {
      id: 'submit-timeout',
      type: 'number',
      min: 1,
      step: 'any',
      placeholder: 'default',
      inputmode: 'decimal',
      'data-testid': 'submit-timeout',
    });
    this.button = h('button', { type: 'submit', class: 'primary', 'data-testid': 'submit-run' }, 'Run code');
    this.error = h('div', {
      class: 'form-error',
      role: 'alert',
      'data-testid': 'submit-error',
      hidden: true,
    });
    this.element = h(
      'section',
      { class: 'panel new-task-form', 'aria-labelledby': 'submit-title', 'data-testid': 'new-task-code' },
      h('header', { class: 'panel-head' }, h('h2', { id: 'submit-title' }, 'Run Python')),
      h(
        'form',
        {
          class: 'form',
          onsubmit: (e) => {
            e.preventDefault();
            void this.submit();
          },
        },
        h('label', { for: 'submit-code' }, 'Code ', h('span', { class: 'muted' }, '(Ctrl+Enter runs)')),
        this.code.element,
        h(
          'div',
          { class: 'form-row' },
          h('div', { class: 'field grow' }, h('label', { for: 'submit-target' }, 'Target'), this.target),
          h('div', { class: 'field' }, h('label', { for: 'submit-timeout' }, 'Timeout (s)'), this.timeout),
        ),
        this.error,
        this.button,
      ),
    );
    extensions.changed.on(frameScheduler(() => this.drawTargets()));
    this.drawTargets();
  }

  private drawTargets(): void {
    const online = this.extensions.online();
    const labels = [...new Set(online.flatMap((e) => e.labels))].sort();
    const key = JSON.stringify([online.map((e) => [e.id, e.name]), labels]);
    if (key === this.targetsKey) return;
    this.targetsKey = key;
    const selected = this.target.value;
    replace(
      this.target,
      h('option', { value: '' }, 'Any free extension'),
      online.length
        ? h(
            'optgroup',
            { label: 'Extension' },
            online.map((e) => h('option', { value: `id:${e.id}` }, `${e.name} (${e.id})`)),
          )
        : null,
      labels.length
        ? h(
            'optgroup',
            { label: 'Label' },
            labels.map((l) => h('option', { value: `label:${l}` }, `label: ${l}`)),
          )
        : null,
    );
    if (selected && ![...this.target.options].some((o) => o.value === selected)) {
      this.target.append(h('option', { value: selected }, `${selected.replace(/^id:/, '')} (offline)`));
    }
    this.target.value = selected;
  }

  private async submit(): Promise<void> {
    const code = this.code.value;
    const body: SubmitCode = { code, target: targetOf(this.target.value) };
    const seconds = Number(this.timeout.value);
    if (this.timeout.value && Number.isFinite(seconds) && seconds > 0)
      body.timeoutMs = Math.round(seconds * 1_000);
    this.code.clearMarks();
    const res = await submitForm(this.button, this.error, () => this.conn.request('task:submit', body));
    if (res.ok) this.onStarted(res.data.id);
    // A policy refusal names the line: mark it in the editor, in the policy's words.
    else if (res.error.code === 'policy_denied') this.code.mark(marksOf(res.error.details));
  }
}

function targetOf(value: string): SubmitCode['target'] {
  if (value.startsWith('id:')) return { extensionId: value.slice(3) };
  if (value.startsWith('label:')) return { label: value.slice(6) };
  return {};
}

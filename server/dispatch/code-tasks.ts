import type { HubConfig } from '../config.js';
import { fromZodError, HubError } from '../errors.js';
import { SubmitCode, type Task } from '../protocol/tasks.js';
import type { CodePolicy } from '../safety/index.js';
import type { TaskService } from '../tasks/service.js';
import type { Dispatcher } from './dispatcher.js';

/** Submission of code tasks: validation, the safety policy, then the queue. */
export class CodeTasks {
  constructor(
    private readonly tasks: TaskService,
    private readonly dispatcher: Dispatcher,
    private readonly policy: CodePolicy,
    private readonly config: HubConfig,
  ) {}

  /** `link.parentCallId`: the parent's tool call this task runs for (set by the hub's own tools, not on the wire). */
  async submit(body: unknown, link: { parentCallId?: string } = {}): Promise<Task> {
    const parsed = SubmitCode.safeParse(body);
    if (!parsed.success) throw fromZodError(parsed.error);
    const input = parsed.data;
    const timeoutMs = input.timeoutMs ?? this.config.defaultTimeoutMs;
    if (timeoutMs > this.config.maxTimeoutMs) {
      throw new HubError('bad_request', `timeoutMs: at most ${this.config.maxTimeoutMs} ms is allowed`, {
        field: 'timeoutMs',
      });
    }
    if (input.parentId && !(await this.tasks.get(input.parentId))) {
      throw new HubError('not_found', `parentId: no task with id ${input.parentId}`, { field: 'parentId' });
    }
    const verdict = this.policy.check(input.code);
    if (!verdict.allowed) {
      const first = verdict.violations[0];
      const where = first ? ` (rule ${first.rule}, line ${first.line}, column ${first.column})` : '';
      const message = first ? `${first.message}${where}` : 'the code was refused by the safety policy';
      if (first?.rule === 'max_code_size') {
        throw new HubError('payload_too_large', message, { field: 'code', details: verdict.violations });
      }
      throw new HubError('policy_denied', message, { field: 'code', details: verdict.violations });
    }
    const task = this.tasks.create({
      kind: 'code',
      input: { code: input.code },
      target: input.target,
      timeoutMs,
      maxAttempts: 1 + (input.retries ?? this.config.defaultRetries),
      traceId: input.traceId,
      parentId: input.parentId,
      parentCallId: input.parentId ? link.parentCallId : undefined,
    });
    for (const v of verdict.violations) {
      this.tasks.append(task.id, 'log', {
        level: 'warn',
        message: `policy (permissive): ${v.message} (rule ${v.rule}, line ${v.line}, column ${v.column})`,
      });
    }
    this.dispatcher.enqueue(task);
    return this.tasks.requireLive(task.id);
  }
}

import type { z } from 'zod';
import { HubError, issueField, validationError } from '../errors.js';
import type { WorkflowPayload, WorkflowRequest } from '../protocol/workflows.js';
import { REDACTED } from './scrub.js';

const SECRET_HEADER = /authorization|api[-_]?key|token|secret|cookie|password/i;

/**
 * A start request as the workflow's payload: `message` becomes one user message and `model` the model name,
 * so `{message: "hi"}` is a whole request. Fields the payload already has win over the shorthands.
 */
export function payloadOf(request: WorkflowRequest): Record<string, unknown> {
  const { message, model, task_meta, input, runtime_config } = request;
  if (input === undefined && message === undefined) {
    throw new HubError('bad_request', 'input.messages: give input.messages (chat messages) or message', {
      field: 'input.messages',
    });
  }
  const payload: Record<string, unknown> = {};
  if (task_meta !== undefined) payload['task_meta'] = task_meta;
  payload['input'] = input ?? { messages: [{ role: 'user', content: message }] };
  if (model === undefined) {
    if (runtime_config !== undefined) payload['runtime_config'] = runtime_config;
    return payload;
  }
  const rc = isObject(runtime_config) ? runtime_config : {};
  const m = isObject(rc['model']) ? rc['model'] : {};
  payload['runtime_config'] = { ...rc, model: { model_name: model, ...m } };
  return payload;
}

/** Parses with the workflow's schema; a failure names the deepest field that is wrong. */
export function parsePayload<P>(schema: z.ZodType<P>, payload: unknown): P {
  const parsed = schema.safeParse(payload);
  if (parsed.success) return parsed.data;
  const issues = flatten(parsed.error.issues).map((i) => ({
    field: issueField(i.path, 'keys' in i ? i.keys : undefined, '(root)'),
    problem: i.message,
  }));
  throw validationError(issues, 'body');
}

/**
 * A union (a tool is a name or an HTTP tool object) fails as "invalid input" on the element; the useful
 * issues are those of the branch that got furthest, so report those with their full paths.
 */
function flatten(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  return issues.flatMap((issue) => {
    if (issue.code !== 'invalid_union' || issue.errors.length === 0) return [issue];
    const best = [...issue.errors].sort((a, b) => depth(b) - depth(a))[0] ?? [];
    if (depth(best) === 0) return [issue];
    return flatten(best.map((i) => ({ ...i, path: [...issue.path, ...i.path] })));
  });
}

function depth(issues: readonly z.core.$ZodIssue[]): number {
  return Math.max(0, ...issues.map((i) => i.path.length + (i.code === 'invalid_type' ? 0 : 0.5)));
}

/** The payload as the task stores it: the API key, every vault value and secret-looking headers replaced. */
export function redactPayload(payload: WorkflowPayload): Record<string, unknown> {
  const rc = payload.runtime_config;
  return {
    ...payload,
    runtime_config: {
      ...rc,
      model: rc.model.api_key === undefined ? rc.model : { ...rc.model, api_key: REDACTED },
      vault: Object.fromEntries(Object.keys(rc.vault).map((k) => [k, REDACTED])),
      tools: rc.tools.map((t) =>
        typeof t === 'string'
          ? t
          : {
              ...t,
              execution_config: {
                ...t.execution_config,
                headers: Object.fromEntries(
                  Object.entries(t.execution_config.headers).map(([k, v]) => [
                    k,
                    SECRET_HEADER.test(k) && !v.includes('{{vault.') ? REDACTED : v,
                  ]),
                ),
              },
            },
      ),
    },
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

import { ZodError } from 'zod';
import type { ErrorBody, ErrorCode } from './protocol/common.js';

interface CatalogueEntry {
  status: number;
  message: string;
}

/** The one catalogue: every error code with its HTTP status and default message. README's table mirrors it. */
export const ERROR_CATALOGUE: Record<ErrorCode, CatalogueEntry> = {
  bad_request: { status: 400, message: 'The request is malformed.' },
  unauthorized: { status: 401, message: 'A valid token is required.' },
  forbidden: { status: 403, message: 'Your role may not do this.' },
  not_found: { status: 404, message: 'No such resource.' },
  conflict: { status: 409, message: 'The request conflicts with the current state.' },
  payload_too_large: { status: 413, message: 'The payload is too large.' },
  policy_denied: { status: 422, message: 'The code was refused by the safety policy.' },
  task_finished: { status: 409, message: 'The task has already finished.' },
  rate_limited: { status: 429, message: 'Too many requests; slow down.' },
  extension_lost: { status: 502, message: 'The extension running the task went away.' },
  hub_restarted: { status: 500, message: 'The hub restarted while the task was running.' },
  timed_out: { status: 504, message: 'The task ran past its timeout.' },
  cancelled: { status: 409, message: 'The task was cancelled.' },
  execution_failed: { status: 500, message: 'The code raised an error.' },
  internal: { status: 500, message: 'Internal hub error.' },
  plugin_failed: { status: 502, message: 'The plugin failed while running the tool.' },
  plugin_unavailable: { status: 503, message: 'The plugin could not be started.' },
  store_unavailable: { status: 503, message: 'The task store cannot be reached; try again shortly.' },
};

export class HubError extends Error {
  readonly code: ErrorCode;
  readonly field: string | undefined;
  readonly details: unknown;

  constructor(code: ErrorCode, message?: string, opts: { field?: string; details?: unknown } = {}) {
    super(message ?? ERROR_CATALOGUE[code].message);
    this.name = 'HubError';
    this.code = code;
    this.field = opts.field;
    this.details = opts.details;
  }

  get status(): number {
    return ERROR_CATALOGUE[this.code].status;
  }

  toBody(): ErrorBody {
    const body: ErrorBody = { code: this.code, message: this.message };
    if (this.field !== undefined) body.field = this.field;
    if (this.details !== undefined) body.details = this.details;
    return body;
  }
}

/**
 * The dotted field an issue is about. An unknown key is named itself, so `{code, colour}` reports `colour`,
 * not the object around it; `fallback` names the whole payload (`body`, `querystring`, ...).
 */
export function issueField(path: ReadonlyArray<PropertyKey>, keys: unknown, fallback: string): string {
  const parts = path.map(String);
  if (Array.isArray(keys) && typeof keys[0] === 'string') parts.push(keys[0]);
  return parts.join('.') || fallback;
}

/** One HubError naming the first bad field; every issue goes in details. */
export function validationError(
  issues: Array<{ field: string; problem: string }>,
  fallback: string,
): HubError {
  const first = issues[0] ?? { field: fallback, problem: 'invalid' };
  return new HubError('bad_request', `${first.field}: ${first.problem}`, {
    field: first.field,
    details: issues,
  });
}

/** Formats a zod failure as one HubError naming the first bad field (all issues go in details). */
export function fromZodError(err: ZodError, prefix = ''): HubError {
  const issues = err.issues.map((i) => {
    const inner = issueField(i.path, 'keys' in i ? i.keys : undefined, '');
    return { field: [prefix, inner].filter(Boolean).join('.') || '(root)', problem: i.message };
  });
  return validationError(issues, prefix || '(root)');
}

/** Normalises anything thrown into a HubError; unknown errors become `internal` without leaking internals. */
export function toHubError(err: unknown): HubError {
  if (err instanceof HubError) return err;
  if (err instanceof ZodError) return fromZodError(err);
  return new HubError('internal');
}

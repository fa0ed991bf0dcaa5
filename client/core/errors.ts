/**
 * The client core's error model, shared by the SDK, the CLI and the browser monitor: the hub's catalogue
 * codes plus the failures only a client can see. No zod and no Node APIs here, so the monitor's bundle can
 * import it as it is and every client names a failure the same way.
 */
import { ERROR_CODES } from '../../server/protocol/error-codes.js';
import type { ErrorBody, ErrorCode } from '../../server/protocol/index.js';

/**
 * Failures the hub cannot report because they happen on the client's side of the wire. They extend the hub's
 * catalogue instead of reusing its codes so a script can tell "the hub said no" from "the hub never answered".
 */
export type ClientErrorCode =
  /** No connection could be made (refused, DNS, TLS, socket closed before the handshake, not connected). */
  | 'hub_unreachable'
  /** The hub accepted the connection but did not answer in time. */
  | 'request_timeout'
  /** The hub answered with something the contract does not allow. */
  | 'bad_response'
  /** `close()` was called while the request or stream was still open. */
  | 'client_closed';

export type SwitchboardErrorCode = ErrorCode | ClientErrorCode;

/** The hub's catalogue as values: the contract's zod enum is built from the same list (zod-free module). */
export const HUB_ERROR_CODES = ERROR_CODES;

export const CLIENT_ERROR_CODES = [
  'hub_unreachable',
  'request_timeout',
  'bad_response',
  'client_closed',
] as const satisfies readonly ClientErrorCode[];

const HUB_CODES: ReadonlySet<string> = new Set(HUB_ERROR_CODES);

export function isHubErrorCode(v: unknown): v is ErrorCode {
  return typeof v === 'string' && HUB_CODES.has(v);
}

/** An error envelope as the hub sends it (checked by shape: code from the catalogue, message a string). */
export function isErrorBody(v: unknown): v is ErrorBody {
  if (typeof v !== 'object' || v === null) return false;
  const b = v as Record<string, unknown>;
  return (
    isHubErrorCode(b['code']) &&
    typeof b['message'] === 'string' &&
    (b['field'] === undefined || typeof b['field'] === 'string')
  );
}

/** An HTTP error answer's body: `{error: ErrorBody}`. */
function errorOfHttpBody(v: unknown): ErrorBody | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const inner = (v as { error?: unknown }).error;
  return isErrorBody(inner) ? inner : undefined;
}

export interface SwitchboardErrorOptions {
  status?: number;
  field?: string;
  details?: unknown;
  cause?: unknown;
}

/** The one error type the clients raise: a hub error envelope, or a client-side failure with its own code. */
export class SwitchboardError extends Error {
  override readonly name = 'SwitchboardError';
  readonly code: SwitchboardErrorCode;
  /** HTTP status when the error came from an HTTP answer. */
  readonly status: number | undefined;
  /** Dotted path of the offending field for validation errors. */
  readonly field: string | undefined;
  /** The hub's details (a policy refusal's violations with their lines, validation issues, ...). */
  readonly details: unknown;

  constructor(code: SwitchboardErrorCode, message: string, opts: SwitchboardErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.status = opts.status;
    this.field = opts.field;
    this.details = opts.details;
  }

  /** From the hub's error envelope (socket ack error, HTTP body `error`). */
  static fromBody(body: ErrorBody, status?: number): SwitchboardError {
    const opts: SwitchboardErrorOptions = { details: body.details };
    if (status !== undefined) opts.status = status;
    if (body.field !== undefined) opts.field = body.field;
    return new SwitchboardError(body.code, body.message, opts);
  }

  /** True for errors a retry with the same credentials cannot fix: the token is missing, wrong or too weak. */
  get isAuthError(): boolean {
    return this.code === 'unauthorized' || this.code === 'forbidden';
  }
}

/** Codes for HTTP answers whose body is not an error envelope (a proxy's 502 page, say). */
const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'payload_too_large',
  422: 'policy_denied',
  429: 'rate_limited',
};

/** Builds the error for a non-2xx HTTP answer from its status and (possibly unparsable) body. */
export function errorFromHttp(status: number, body: unknown): SwitchboardError {
  const envelope = errorOfHttpBody(body);
  if (envelope) return SwitchboardError.fromBody(envelope, status);
  const code = CODE_BY_STATUS[status] ?? 'internal';
  return new SwitchboardError(code, `The hub answered HTTP ${status}.`, { status, details: body });
}

/**
 * Reads a Socket.IO `connect_error`. A hub middleware rejection carries an error envelope in `data` (or at
 * least a catalogue code as its message); anything else is a transport failure: the hub is unreachable.
 */
export function errorFromConnect(err: Error & { data?: unknown }, url: string): SwitchboardError {
  const data = err.data;
  if (isErrorBody(data)) return SwitchboardError.fromBody(data);
  const wrapped = errorOfHttpBody(data);
  if (wrapped) return SwitchboardError.fromBody(wrapped);
  if (isHubErrorCode(err.message)) return new SwitchboardError(err.message, err.message);
  return new SwitchboardError('hub_unreachable', `Cannot connect to ${url}: ${err.message}`, { cause: err });
}

/** Wraps whatever a request threw into a SwitchboardError, keeping ones that already are. */
export function toSwitchboardError(err: unknown, what: string): SwitchboardError {
  if (err instanceof SwitchboardError) return err;
  const e = err instanceof Error ? err : new Error(String(err));
  if (e.name === 'TimeoutError' || /timed out/i.test(e.message)) {
    return new SwitchboardError('request_timeout', `${what}: the hub did not answer in time.`, { cause: e });
  }
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  const reason = cause?.code ?? cause?.message ?? e.message;
  return new SwitchboardError('hub_unreachable', `${what}: cannot reach the hub (${reason}).`, { cause: e });
}

/** The error a request made while there is no connection at all fails with. */
export function notConnected(what: string): SwitchboardError {
  return new SwitchboardError(
    'hub_unreachable',
    `${what}: not connected to the hub; try again once it is back.`,
  );
}

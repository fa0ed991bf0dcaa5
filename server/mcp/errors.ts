import { McpError, ErrorCode as Rpc } from '@modelcontextprotocol/sdk/types.js';
import { toHubError } from '../errors.js';
import type { ErrorBody, ErrorCode } from '../protocol/common.js';

/** JSON-RPC code for a role that may not do what it asked (server-defined range; the SDK uses -32000..-32002). */
export const RPC_FORBIDDEN = -32003;
/** JSON-RPC code the MCP spec gives an unknown resource. */
export const RPC_RESOURCE_NOT_FOUND = -32002;

/**
 * Hub errors as JSON-RPC errors: bad arguments are InvalidParams, a refused role its own code, a task in the
 * wrong state InvalidRequest. `data` is always the catalogue's error body, so a client can switch on
 * `data.code` and read `data.field`.
 */
const RPC_OF: Record<ErrorCode, number> = {
  bad_request: Rpc.InvalidParams,
  payload_too_large: Rpc.InvalidParams,
  not_found: Rpc.InvalidParams,
  unauthorized: RPC_FORBIDDEN,
  forbidden: RPC_FORBIDDEN,
  conflict: Rpc.InvalidRequest,
  task_finished: Rpc.InvalidRequest,
  rate_limited: Rpc.InvalidRequest,
  policy_denied: Rpc.InvalidParams,
  extension_lost: Rpc.InternalError,
  hub_restarted: Rpc.InternalError,
  timed_out: Rpc.InternalError,
  cancelled: Rpc.InvalidRequest,
  execution_failed: Rpc.InternalError,
  internal: Rpc.InternalError,
  plugin_failed: Rpc.InternalError,
  plugin_unavailable: Rpc.InternalError,
  store_unavailable: Rpc.InternalError,
};

/**
 * A JSON-RPC error as the SDK sends it (`code`, `message`, `data` are copied onto the wire). Not an McpError:
 * that one prefixes its message with "MCP error <code>: ", and the client's McpError prefixes it again.
 */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data: ErrorBody,
  ) {
    super(message);
    this.name = 'RpcError';
  }
}

/** Anything thrown by a handler, as the JSON-RPC error the client gets; its message starts with the field. */
export function toMcpError(err: unknown): RpcError | McpError {
  if (err instanceof McpError || err instanceof RpcError) return err;
  const hub = toHubError(err);
  const body = hub.toBody();
  const message =
    hub.field && !hub.message.startsWith(`${hub.field}:`) ? `${hub.field}: ${hub.message}` : hub.message;
  return new RpcError(RPC_OF[hub.code], message, body);
}

/** An RpcError straight from the catalogue, for errors raised by the MCP layer itself. */
export function rpcError(code: number, hubCode: ErrorCode, message: string, field?: string): RpcError {
  const body: ErrorBody = { code: hubCode, message, ...(field ? { field } : {}) };
  return new RpcError(code, field ? `${field}: ${message}` : message, body);
}

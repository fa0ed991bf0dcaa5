/**
 * The hub's error codes as plain values, without zod: the contract builds its `ErrorCode` enum from this list
 * (common.ts), and the client core (SDK, CLI, browser monitor) imports it as it is, so the monitor's bundle
 * carries no zod and there is one list to extend.
 */
export const ERROR_CODES = [
  'bad_request',
  'unauthorized',
  'forbidden',
  'not_found',
  'conflict',
  'rate_limited',
  'payload_too_large',
  'policy_denied',
  'task_finished',
  'extension_lost',
  'hub_restarted',
  'timed_out',
  'cancelled',
  'execution_failed',
  'internal',
  'plugin_failed',
  'plugin_unavailable',
  'store_unavailable',
] as const;

/**
 * Task kinds and statuses as plain values, without zod: the contract builds its enums from these lists
 * (tasks.ts), and the browser monitor imports them as they are, so its bundle carries no zod and there is one
 * list to extend.
 */
export const TASK_KINDS = ['code', 'workflow', 'flowgram', 'plugin'] as const;

export const TASK_STATUSES = [
  'queued',
  'dispatched',
  'running',
  'succeeded',
  'failed',
  'cancelled',
  'timed_out',
] as const;

export const TERMINAL_STATUSES = ['succeeded', 'failed', 'cancelled', 'timed_out'] as const;
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number];

/** Whether a status is final: nothing moves a task out of it. */
export function isTerminal(status: (typeof TASK_STATUSES)[number]): status is TerminalStatus {
  return (TERMINAL_STATUSES as readonly string[]).includes(status);
}

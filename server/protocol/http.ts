import { z } from 'zod';
import { ErrorBody, Id, Label } from './common.js';
import { TaskStatus } from './tasks.js';

export const HttpError = z.object({ error: ErrorBody });

export const TaskIdParams = z.object({ id: Id }).strict();

/** Omniverse exec platform: `target` is an extension id or `label:<name>`; timeout in seconds. */
export const ExecBody = z
  .object({
    code: z.string().min(1, 'code is empty'),
    target: z.string().min(1).max(200).optional(),
    timeout: z.number().positive().max(86_400).optional(),
  })
  .strict();
export type ExecBody = z.infer<typeof ExecBody>;

export const ExecResult = z.object({
  task_id: Id,
  status: TaskStatus,
  stdout: z.string(),
  stderr: z.string(),
  result: z.unknown(),
  error: z.string().nullable(),
  traceback: z.string().nullable(),
  duration_ms: z.number().nullable(),
});
export type ExecResult = z.infer<typeof ExecResult>;

export const QueueResult = z.object({ task_id: Id, status: TaskStatus });
export const ExecTaskParams = z.object({ task_id: Id }).strict();

export const Health = z.object({
  status: z.literal('ok'),
  version: z.string(),
  uptime_s: z.number(),
  extensions_online: z.number().int(),
  tasks_active: z.number().int(),
});

/** Parses the exec platform's `target` string into the native target. */
export function parseExecTarget(target: string | undefined): { extensionId?: string; label?: string } {
  if (!target || target === 'any') return {};
  if (target.startsWith('label:')) return { label: Label.parse(target.slice(6)) };
  return { extensionId: target };
}

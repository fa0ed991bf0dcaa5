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

/** Parses the exec platform's `target` string (`EXT_ID`, `label:NAME`, `any` or absent) into a native target. */
export function parseExecTarget(target: string | undefined): { extensionId?: string; label?: string } {
  if (!target || target === 'any') return {};
  if (target.startsWith('label:')) return { label: target.slice(6) };
  return { extensionId: target };
}

/** Polling hosts (the old platform's flow): who is asking, and how long to hold the request open. */
export const NextCodeQuery = z
  .object({
    id: Id.optional(),
    name: z.string().min(1).max(128).default('polling-host'),
    labels: z
      .string()
      .max(2048)
      .optional()
      .transform((v) =>
        v
          ? v
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean)
          : [],
      )
      .pipe(z.array(Label).max(32)),
    concurrency: z.coerce.number().int().min(1).max(64).default(1),
    host_app: z.string().max(128).optional(),
    host_version: z.string().max(64).optional(),
    /** Seconds to wait for a job before answering 204. */
    wait: z.coerce.number().min(0).max(60).default(20),
  })
  .strict();

export const NextCode = z.object({
  task_id: Id,
  code: z.string(),
  timeout: z.number(),
  attempt: z.number().int(),
  trace_id: z.string(),
  extension_id: Id,
});

export const StatusUpdateBody = z
  .object({
    task_id: Id,
    extension_id: Id.optional(),
    status: z.enum(['running', 'succeeded', 'failed', 'cancelled', 'timed_out']).optional(),
    stdout: z.string().max(1_048_576).optional(),
    stderr: z.string().max(1_048_576).optional(),
    result: z.unknown().optional(),
    error: z.string().max(65_536).optional(),
    error_type: z.string().max(256).optional(),
    traceback: z.string().max(1_048_576).optional(),
  })
  .strict();
export type StatusUpdateBody = z.infer<typeof StatusUpdateBody>;

/** `cancel` tells the host to stop the job (the hub has already ended the task). */
export const StatusUpdateResult = z.object({
  ok: z.literal(true),
  cancel: z.enum(['cancelled', 'timed_out']).nullable(),
});

import { z } from 'zod';
import { ERROR_CODES } from './error-codes.js';

/** Identifiers are opaque strings; bounded so a hostile client cannot make the hub store megabytes of key. */
export const Id = z.string().min(1).max(128);
export const Label = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.:/-]+$/, 'labels use letters, digits and _ . : / -');

export const Role = z.enum(['admin', 'operator', 'viewer', 'extension']);
export type Role = z.infer<typeof Role>;

export const ErrorCode = z.enum(ERROR_CODES);
export type ErrorCode = z.infer<typeof ErrorCode>;

/** The error envelope every transport answers with: HTTP bodies, socket acks, raw ws replies. */
export const ErrorBody = z.object({
  code: ErrorCode,
  message: z.string(),
  /** Dotted path of the offending field for validation errors, e.g. `target.label`. */
  field: z.string().optional(),
  details: z.unknown().optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

export const AckError = z.object({ ok: z.literal(false), error: ErrorBody });

/** Every ack is `{ok: true, data}` or `{ok: false, error}`. */
export function ackOf<T extends z.ZodType>(data: T) {
  return z.discriminatedUnion('ok', [z.object({ ok: z.literal(true), data }), AckError]);
}
export type Ack<T> = { ok: true; data: T } | { ok: false; error: ErrorBody };

export const Empty = z.object({}).strict();

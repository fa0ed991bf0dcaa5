import type { z } from 'zod';
import { fromZodError, toHubError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Ack, ErrorBody } from '../protocol/common.js';

type AckFn = (res: Ack<unknown>) => void;

/** A handler result whose `after` runs right after the ack is sent, in the same tick. */
export class ThenRun<T> {
  constructor(
    readonly data: T,
    readonly after: () => void,
  ) {}
}

/**
 * Wraps one inbound socket event: validates the payload with its schema, runs the handler and answers with
 * an ack envelope. Nothing thrown escapes, so a bad message never costs the connection. Clients that sent no
 * ack callback get failures as a `hub:error` event instead of silence.
 */
export function validated<S extends z.ZodType, R>(
  event: string,
  schema: S,
  logger: Logger,
  onError: (body: ErrorBody) => void,
  before: () => void,
  fn: (payload: z.output<S>) => R,
): (...args: unknown[]) => void {
  return (...args: unknown[]) => {
    const last = args.at(-1);
    const ack: AckFn | null = typeof last === 'function' ? (last as AckFn) : null;
    const payload = ack ? (args.length > 1 ? args[0] : undefined) : args[0];
    const answer = (res: Ack<unknown>) => {
      if (ack) ack(res);
      else if (!res.ok) onError(res.error);
    };
    try {
      before();
      const parsed = schema.safeParse(payload ?? {});
      if (!parsed.success) throw fromZodError(parsed.error);
      const data = fn(parsed.data);
      if (data instanceof ThenRun) {
        answer({ ok: true, data: data.data });
        data.after();
      } else answer({ ok: true, data: data ?? {} });
    } catch (err) {
      const e = toHubError(err);
      if (e.code === 'internal') logger.error({ err, event }, 'socket handler failed');
      answer({ ok: false, error: { ...e.toBody(), message: `${event}: ${e.message}` } });
    }
  };
}

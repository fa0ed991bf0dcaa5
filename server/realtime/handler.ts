import type { z } from 'zod';
import type { Action, Principal } from '../auth/index.js';
import type { HubContext } from '../context.js';
import { fromZodError, HubError, toHubError } from '../errors.js';
import type { Ack, ErrorBody } from '../protocol/common.js';

/** A handler result whose `after` runs right after the ack is sent, in the same tick. */
export class ThenRun<T> {
  constructor(
    readonly data: T,
    readonly after: () => void,
  ) {}
}

/** One inbound event: its payload schema, the role action it needs, whether it counts against the rate. */
export interface HandlerSpec<S extends z.ZodType = z.ZodType> {
  schema: S;
  action: Action;
  charge: boolean;
  run: (payload: z.output<S>) => unknown;
}

export type HandlerTable = Record<string, HandlerSpec>;

/** Builds a spec with the payload type inferred from the schema. */
export function handler<S extends z.ZodType>(
  schema: S,
  action: Action,
  run: (payload: z.output<S>) => unknown,
  charge = true,
): HandlerSpec {
  return { schema, action, charge, run: run as (p: unknown) => unknown };
}

/**
 * Runs one inbound message through its spec: role, rate, schema, handler. Never throws: whatever goes wrong
 * becomes an error ack, so a bad message never costs the connection. The same path serves Socket.IO and ws.
 */
type Handled = { res: Ack<unknown>; after?: () => void };

/** Calls `fn` with what a handler answered: at once for a handler that answered at once, else when it does. */
export function whenHandled(handled: Handled | Promise<Handled>, fn: (h: Handled) => void): void {
  if (handled instanceof Promise) void handled.then(fn);
  else fn(handled);
}

export function runHandler(
  ctx: HubContext,
  principal: Principal,
  table: HandlerTable,
  event: string,
  payload: unknown,
): Handled | Promise<Handled> {
  const failed = (err: unknown): Handled => {
    const e = toHubError(err);
    if (e.code === 'internal') ctx.logger.error({ err, event }, 'socket handler failed');
    return { res: { ok: false, error: { ...e.toBody(), message: `${event}: ${e.message}` } } };
  };
  const answer = (data: unknown): Handled => {
    if (data instanceof ThenRun) return { res: { ok: true, data: data.data }, after: data.after };
    return { res: { ok: true, data: data ?? {} } };
  };
  try {
    if (exceedsBytes(payload, ctx.config.maxPayloadBytes)) {
      throw new HubError(
        'payload_too_large',
        `payload: larger than the ${ctx.config.maxPayloadBytes} byte limit`,
        {
          field: 'payload',
        },
      );
    }
    const spec = Object.hasOwn(table, event) ? table[event] : undefined;
    if (!spec)
      throw new HubError('bad_request', `unknown event; expected one of ${Object.keys(table).join(', ')}`);
    ctx.auth.require(principal, spec.action);
    if (spec.charge) ctx.auth.charge(principal);
    const parsed = spec.schema.safeParse(payload ?? {});
    if (!parsed.success) throw fromZodError(parsed.error);
    const data = spec.run(parsed.data);
    if (data instanceof Promise) return data.then(answer, failed);
    return answer(data);
  } catch (err) {
    return failed(err);
  }
}

/**
 * Whether a parsed message is over `limit` bytes, counting its strings (where the size of real messages
 * lives) and a few bytes per other value; stops walking as soon as the limit is passed.
 */
export function exceedsBytes(value: unknown, limit: number): boolean {
  let total = 0;
  const stack: unknown[] = [value];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v === 'string') total += v.length * 3 > limit - total ? Buffer.byteLength(v) : v.length;
    else if (v && typeof v === 'object') {
      if (Buffer.isBuffer(v)) total += v.length;
      else
        for (const [k, child] of Object.entries(v)) {
          total += k.length + 4;
          stack.push(child);
        }
    } else total += 8;
    if (total > limit) return true;
  }
  return false;
}

interface SocketLike {
  onAny(fn: (event: string, ...args: unknown[]) => void): unknown;
}

/**
 * Binds a table to a Socket.IO socket. The ack is the last argument when the client asked for one; clients
 * that sent none get failures as a `hub:error` event instead of silence.
 */
export function bindSocketIo(
  socket: SocketLike,
  ctx: HubContext,
  principal: Principal,
  table: HandlerTable,
  onError: (body: ErrorBody) => void,
): void {
  // onAny, not one listener per event: an unknown event gets an answer too, never silence.
  socket.onAny((event: string, ...args: unknown[]) => {
    const last = args.at(-1);
    const ack = typeof last === 'function' ? (last as (res: Ack<unknown>) => void) : null;
    const payload = ack ? (args.length > 1 ? args[0] : undefined) : args[0];
    // The answer waits for this tick's commit when it changed a task's status: told means on disk.
    whenHandled(runHandler(ctx, principal, table, event, payload), ({ res, after }) =>
      ctx.tasks.afterCommit(() => {
        if (ack) ack(res);
        else if (!res.ok) onError(res.error);
        after?.();
      }),
    );
  });
}

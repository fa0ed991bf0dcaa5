/**
 * The client core's socket requests: an event with an ack and a deadline, its answer read into the shared
 * error model. The SDK checks acks against the contract's schemas on top; the monitor, which keeps zod out of
 * its bundle, relies on this shape check.
 */
import { isErrorBody, notConnected, SwitchboardError, toSwitchboardError } from './errors.js';

export type AckResult<T> = { ok: true; data: T } | { ok: false; error: SwitchboardError };

/** What the core needs of a Socket.IO client socket (typed sockets are cast to it at the call site). */
export interface AckSocket {
  readonly connected: boolean;
  timeout(ms: number): { emitWithAck(event: string, payload: unknown): Promise<unknown> };
}

/** Reads a raw ack: `{ok: true, data}`, the hub's error envelope, or `bad_response` for anything else. */
export function readAck(raw: unknown, what: string): AckResult<unknown> {
  if (typeof raw === 'object' && raw !== null) {
    const ack = raw as { ok?: unknown; data?: unknown; error?: unknown };
    if (ack.ok === true) return { ok: true, data: ack.data };
    if (ack.ok === false && isErrorBody(ack.error))
      return { ok: false, error: SwitchboardError.fromBody(ack.error) };
  }
  return {
    ok: false,
    error: new SwitchboardError('bad_response', `${what}: unexpected answer from the hub.`, { details: raw }),
  };
}

/**
 * Sends `event` and waits for its ack. Never throws: not connected is `hub_unreachable` at once, no answer in
 * time is `request_timeout`, a refusal is the hub's error.
 */
export async function requestWithAck(
  socket: AckSocket,
  event: string,
  payload: unknown,
  timeoutMs: number,
): Promise<AckResult<unknown>> {
  if (!socket.connected) return { ok: false, error: notConnected(event) };
  try {
    return readAck(await socket.timeout(timeoutMs).emitWithAck(event, payload), event);
  } catch (err) {
    return { ok: false, error: toSwitchboardError(err, event) };
  }
}

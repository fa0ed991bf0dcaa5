import type { HubContext } from '../context.js';
import { HubError } from '../errors.js';
import type { HostLogEntry } from '../protocol/extension.js';
import { ExtensionLogsRef, ExtensionLogsSubscribe } from '../protocol/monitor.js';
import { type HandlerTable, handler, ThenRun } from './handler.js';

/**
 * What following host logs needs from a connection: a way to send a line, and a place for its follows
 * (created on the first one, so a connection that follows nothing holds nothing).
 */
export interface LogPeer {
  sendLog(entry: HostLogEntry): void;
  logFollows?: Map<string, () => void>;
  /** Runs `fn` once when the connection closes (registered with the first follow). */
  onceClosed(fn: () => void): void;
}

/** Stops every follow of a connection. */
export function closeLogFollows(peer: LogPeer): void {
  const follows = peer.logFollows;
  if (!follows) return;
  for (const off of follows.values()) off();
  follows.clear();
}

/**
 * Follows per connection (not a room): the stream lives in this hub process's registry. One table per
 * endpoint, run with the connection's `LogPeer`.
 */
export function hostLogHandlers(ctx: HubContext): HandlerTable {
  return {
    'extension:logs:subscribe': handler<typeof ExtensionLogsSubscribe, LogPeer>(
      ExtensionLogsSubscribe,
      'subscribe',
      ({ extensionId, afterSeq }, peer) => {
        const { logs } = ctx.registry;
        const kept = logs.read(extensionId, afterSeq);
        if (!ctx.registry.get(extensionId) && kept.lines.length === 0 && kept.dropped === 0)
          throw new HubError('not_found', `no extension with id ${extensionId}`, { field: 'extensionId' });
        // Ack and watch in one tick: no line can fall between the backlog and the live stream.
        return new ThenRun({ extensionId, ...kept }, () => {
          let follows = peer.logFollows;
          if (!follows) {
            follows = new Map();
            peer.logFollows = follows;
            peer.onceClosed(() => closeLogFollows(peer));
          }
          if (!follows.has(extensionId))
            follows.set(
              extensionId,
              logs.follow(extensionId, (line) => peer.sendLog(line)),
            );
        });
      },
    ),
    'extension:logs:unsubscribe': handler<typeof ExtensionLogsRef, LogPeer>(
      ExtensionLogsRef,
      'subscribe',
      ({ extensionId }, peer) => {
        peer.logFollows?.get(extensionId)?.();
        peer.logFollows?.delete(extensionId);
        return {};
      },
    ),
  };
}

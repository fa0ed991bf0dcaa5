import type { HubContext } from '../context.js';
import { HubError } from '../errors.js';
import type { HostLogEntry } from '../protocol/extension.js';
import { ExtensionLogsRef, ExtensionLogsSubscribe } from '../protocol/monitor.js';
import { type HandlerTable, handler, ThenRun } from './handler.js';

/** Follows per connection (not a room): the stream lives in this hub process's registry. */
export function hostLogHandlers(
  ctx: HubContext,
  send: (entry: HostLogEntry) => void,
): { handlers: HandlerTable; close(): void } {
  const follows = new Map<string, () => void>();
  const handlers: HandlerTable = {
    'extension:logs:subscribe': handler(ExtensionLogsSubscribe, 'subscribe', ({ extensionId, afterSeq }) => {
      const { logs } = ctx.registry;
      const kept = logs.read(extensionId, afterSeq);
      if (!ctx.registry.get(extensionId) && kept.lines.length === 0 && kept.dropped === 0)
        throw new HubError('not_found', `no extension with id ${extensionId}`, { field: 'extensionId' });
      // Ack and watch in one tick: no line can fall between the backlog and the live stream.
      return new ThenRun({ extensionId, ...kept }, () => {
        if (!follows.has(extensionId)) follows.set(extensionId, logs.follow(extensionId, send));
      });
    }),
    'extension:logs:unsubscribe': handler(ExtensionLogsRef, 'subscribe', ({ extensionId }) => {
      follows.get(extensionId)?.();
      follows.delete(extensionId);
      return {};
    }),
  };
  return {
    handlers,
    close: () => {
      for (const off of follows.values()) off();
      follows.clear();
    },
  };
}

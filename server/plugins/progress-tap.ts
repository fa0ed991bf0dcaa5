import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Progress } from '@modelcontextprotocol/sdk/types.js';

/**
 * Takes progress notifications off the wire before the SDK sees them, for the tokens in `handlers`. The SDK
 * handles notifications a microtask late, so a last progress sent just before the answer would otherwise be
 * dropped together with the request's handler. Call after `client.connect` (which sets `onmessage`).
 */
export function tapProgress(
  transport: Transport,
  handlers: ReadonlyMap<string, (p: Progress) => void>,
): void {
  const inner = transport.onmessage;
  transport.onmessage = (message, extra) => {
    if ('method' in message && message.method === 'notifications/progress' && !('id' in message)) {
      const params = message.params as (Progress & { progressToken?: string | number }) | undefined;
      const handler = params ? handlers.get(String(params.progressToken)) : undefined;
      if (params && handler) {
        handler({
          progress: params.progress,
          ...(params.total !== undefined ? { total: params.total } : {}),
          ...(params.message !== undefined ? { message: params.message } : {}),
        });
        return;
      }
    }
    inner?.(message, extra);
  };
}

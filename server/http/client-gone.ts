import type { FastifyReply } from 'fastify';

/**
 * Calls `fn` if the client goes away before the response is complete. (The request's own `close` event fires
 * once its body is read, so it cannot tell a hung-up client from a finished upload.)
 */
export function onClientGone(reply: FastifyReply, fn: () => void): void {
  reply.raw.on('close', () => {
    if (!reply.raw.writableEnded) fn();
  });
}

import { z } from 'zod';

/** Raw WebSocket framing of the same contract: `/ws/extension` and `/ws/monitor` carry JSON text frames. */
export const WsMessageId = z.union([z.string().min(1).max(64), z.number().int()]);

/**
 * A frame either side sends. `event` frames carry a contract event; when they have an `id` the other side
 * answers with an `ack` frame carrying the same id (the ack envelope for client requests; the event's ack
 * schema, e.g. `{accepted}` for `job:run`, for hub requests).
 */
export const WsFrame = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('event'),
      event: z.string().min(1).max(64),
      id: WsMessageId.optional(),
      data: z.unknown(),
    })
    .strict(),
  z.object({ type: z.literal('ack'), id: WsMessageId, data: z.unknown() }).strict(),
]);
export type WsFrame = z.infer<typeof WsFrame>;

export const WS_PATHS = { extension: '/ws/extension', monitor: '/ws/monitor' } as const;

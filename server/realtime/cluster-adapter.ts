import { createAdapter } from '@socket.io/redis-streams-adapter';
import { Redis, type RedisOptions } from 'ioredis';

/**
 * Socket.IO's Redis Streams adapter (`@socket.io/redis-streams-adapter`) on ioredis, for cluster mode: rooms
 * span the hub processes, so `io.to(room)`, `fetchSockets` and `disconnectSockets` reach every process's
 * sockets. Its stream and channels carry the hub's prefix, so clusters sharing one Redis stay apart.
 *
 * Task events and the feed do not ride it: each process emits them to its own sockets (`.local`) from the
 * change stream (change-feed.ts), which every transport shares; were the owner's `to(room)` to cross here as
 * well, sockets elsewhere would get each event twice.
 */
export function redisStreamsAdapter(url: string, prefix: string) {
  const quiet = (c: Redis) => c.on('error', () => {}); // said by the task store, once per outage
  const options: RedisOptions = { connectTimeout: 5_000 };
  const client = quiet(new Redis(url, options));
  // The adapter reads and subscribes on duplicates of the client: keep them from printing every reconnect.
  const duplicate = client.duplicate.bind(client);
  client.duplicate = (override?: Partial<RedisOptions>) => quiet(duplicate(override));
  const adapter = createAdapter(client, {
    streamName: `${prefix}socket.io`,
    channelPrefix: `${prefix}socket.io`,
    sessionKeyPrefix: `${prefix}sio:session:`,
    // Each process blocks on the stream this long per read: short enough that a closing hub lets go soon.
    blockTimeInMs: 1_000,
    onlyPlaintext: true,
  });
  return {
    adapter,
    close: () => {
      client.disconnect();
    },
  };
}

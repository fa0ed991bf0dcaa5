// Setup file of the `redis` vitest project: every hub a test file starts (in process, or spawned with this
// environment) keeps its tasks in a real redis-server of its own, emptied before the file runs.
import { afterAll, beforeAll } from 'vitest';
import { type RedisServer, startRedis } from './redis.js';

let server: RedisServer | undefined;

beforeAll(async () => {
  server ??= await startRedis();
  await server.flush();
  process.env['SWITCHBOARD_REDIS_URL'] = server.url;
});

afterAll(async () => {
  delete process.env['SWITCHBOARD_REDIS_URL'];
  await server?.stop();
  server = undefined;
});

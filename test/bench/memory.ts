/**
 * Memory: heap per idle subscriber (connected, in a task room, nothing flowing), after a full GC, against
 * bare Socket.IO clients joined to rooms.
 */
import { createTask, inBatches, sio, sleep, TOKENS } from './load.js';
import type { BenchServer } from './proc.js';

const ROOMS = 10;

/** Bytes of server heap per subscriber. */
export async function heapPerSubscriber(server: BenchServer, subs: number): Promise<number> {
  const rooms: string[] = [];
  if (server.kind === 'hub') {
    // Queued on a label no host has: tasks that stay open with a room each.
    for (let i = 0; i < ROOMS; i++)
      rooms.push((await createTask(server.url, { code: 'idle()', target: { label: 'nobody' } })).id);
  } else for (let i = 0; i < ROOMS; i++) rooms.push(`r${i}`);
  await sleep(100);
  const before = (await server.request({ cmd: 'gc' })).heapUsed;
  const clients = await inBatches(subs, 500, async (i) => {
    const room = rooms[i % ROOMS] ?? '';
    if (server.kind === 'hub') {
      const s = await sio(`${server.url}/monitor`, TOKENS.viewer);
      await s.timeout(60_000).emitWithAck('task:subscribe', { taskId: room });
      return s;
    }
    const s = await sio(server.url);
    await s.timeout(60_000).emitWithAck('join', room);
    return s;
  });
  await sleep(500);
  const after = (await server.request({ cmd: 'gc' })).heapUsed;
  for (const c of clients) c.close();
  await sleep(Math.min(5_000, subs / 4));
  return (after - before) / subs;
}

/**
 * Replay: a subscriber asks for a finished task with many events from seq 0 over Socket.IO. Server CPU per
 * replayed event, against bare Socket.IO reading the same rows from SQLite and emitting each.
 */
import { counter, cpuAcross, sio, TOKENS } from './load.js';
import type { BenchServer } from './proc.js';

/** µs of server CPU per replayed event; `taskId` is what the server seeded. */
export async function replayOverSocket(server: BenchServer, taskId: string, events: number): Promise<number> {
  if (server.kind === 'hub') {
    const total = events + 4; // queued, running, done, succeeded around the outputs
    const got = counter(total);
    const s = await sio(`${server.url}/monitor`, TOKENS.viewer);
    s.on('task:event', () => got.hit());
    const cpu = await cpuAcross(server.cpuMs, async () => {
      await s.timeout(120_000).emitWithAck('task:subscribe', { taskId });
      await got.done;
    });
    s.close();
    return (cpu * 1000) / total;
  }
  const got = counter(events);
  const s = await sio(server.url);
  s.on('event', () => got.hit());
  const cpu = await cpuAcross(server.cpuMs, async () => {
    await s.timeout(120_000).emitWithAck('replay', events);
    await got.done;
  });
  s.close();
  return (cpu * 1000) / events;
}

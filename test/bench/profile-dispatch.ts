/**
 * `npx tsx --no-node-snapshot test/bench/profile-dispatch.ts [tasks]`: profiles the hub process while the
 * load (a forked child running test/bench/dispatch.ts's sequential loop) sends `/execute` calls, and prints
 * the functions with the most self time. For finding where a dispatch's CPU goes.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildHub } from '../../server/app.js';
import { profileTop } from './profile.js';
import { BENCH_TOKENS } from './protocol.js';

const tasks = Number(process.argv[2] ?? 2000);
if (process.argv[3] === 'load') {
  const { dispatchSequential } = await import('./dispatch.js');
  const url = process.argv[4] ?? '';
  await dispatchSequential({ kind: 'hub', url, pid: 0, cpuMs: () => 0 } as never, tasks);
  process.exit(0);
}
const dataDir = mkdtempSync(join(tmpdir(), 'sb-prof-'));
const hub = await buildHub({
  port: 0,
  dataDir,
  logLevel: 'info',
  rateLimitPerMinute: 0,
  ...BENCH_TOKENS,
  ...(process.env['BENCH_HUB_CONFIG'] ? JSON.parse(process.env['BENCH_HUB_CONFIG']) : {}),
});
const url = await hub.listen();
const { Session } = await import('node:inspector/promises');
const out = process.env['PROFILE_OUT'];
const session = new Session();
if (out) {
  // A full profile for a closer look (chrome://inspect, or any .cpuprofile reader).
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
}
const top = await profileTop(
  () =>
    new Promise<void>((resolve, reject) => {
      const child = fork(new URL(import.meta.url).pathname, [String(tasks), 'load', url], {
        execArgv: ['--import', 'tsx'],
      });
      child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`load exited ${code}`))));
    }),
  40,
);
console.log(top.join('\n'));
if (out) {
  const { profile } = await session.post('Profiler.stop');
  writeFileSync(out, JSON.stringify(profile));
  session.disconnect();
}
await hub.close();
rmSync(dataDir, { recursive: true, force: true });

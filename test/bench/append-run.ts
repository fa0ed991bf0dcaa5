import { execFileSync } from 'node:child_process';
import { PINNED } from './proc.js';
import type { Sample } from './stats.js';

/** Runs test/bench/append.ts in a process of its own, on the server core where pinning is possible. */
export async function appendAcrossTasks(tasks: number, events: number): Promise<Sample> {
  const script = new URL('./append.ts', import.meta.url).pathname;
  const args = ['--import', 'tsx', script, String(tasks), String(events)];
  let out: string;
  try {
    out = PINNED
      ? execFileSync('taskset', ['-c', '0', process.execPath, ...args], { encoding: 'utf8' })
      : execFileSync(process.execPath, args, { encoding: 'utf8' });
  } catch (err) {
    if (!PINNED) throw err;
    out = execFileSync(process.execPath, args, { encoding: 'utf8' }); // core 0 not ours: unpinned
  }
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as Sample;
}

import { randomFillSync } from 'node:crypto';

let last = 0;
let counter = 0;

// Random bytes drawn from the CSPRNG a pool at a time: one call per 256 ids instead of two per task.
const pool = Buffer.alloc(4096);
let used = pool.length;

function randomHex(bytes: number): string {
  if (used + bytes > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const hex = pool.toString('hex', used, used + bytes);
  used += bytes;
  return hex;
}

/** Time-ordered ids (`t_` + ms timestamp + counter + random) so ids created in one millisecond still sort. */
export function newTaskId(): string {
  const now = Date.now();
  counter = now === last ? counter + 1 : 0;
  last = now;
  return `t_${now.toString(36).padStart(9, '0')}${counter.toString(36).padStart(3, '0')}${randomHex(5)}`;
}

export function newTraceId(): string {
  return randomHex(16);
}

import { randomBytes } from 'node:crypto';

let last = 0;
let counter = 0;

/** Time-ordered ids (`t_` + ms timestamp + counter + random) so ids created in one millisecond still sort. */
export function newTaskId(): string {
  const now = Date.now();
  counter = now === last ? counter + 1 : 0;
  last = now;
  return `t_${now.toString(36).padStart(9, '0')}${counter.toString(36).padStart(3, '0')}${randomBytes(5).toString('hex')}`;
}

export function newTraceId(): string {
  return randomBytes(16).toString('hex');
}
